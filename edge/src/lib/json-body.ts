/**
 * Turns a request body into JSON whatever content type an SDK labelled it with: browsers'
 * sendBeacon sends text/plain, some SDKs send JSON labelled form-urlencoded, others send
 * `data=<json or base64 json>` forms. Only media types that cannot carry JSON get a 415.
 */
import { EdgeError, badRequest, excerpt } from "../errors.js";

const NOT_JSON = /^(multipart\/|image\/|audio\/|video\/|font\/|application\/(xml|pdf|zip|x-protobuf|protobuf)|text\/xml)/;

const decoder = new TextDecoder();

export function bodyText(body: Uint8Array): string {
  return decoder.decode(body);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what} is not valid JSON: ${excerpt((err as Error).message, 120)}`, "Send a JSON object (see /v1/openapi.json).");
  }
}

function fromForm(text: string): unknown {
  const form = new URLSearchParams(text);
  const data = form.get("data") ?? form.get("json") ?? form.get("payload");
  if (data == null) throw badRequest("form body has no data field with the JSON payload", "Send the JSON as the body, or as data=<json> in a form.");
  const trimmed = data.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) return parseJson(trimmed, "form field data");
  try {
    return parseJson(atob(trimmed), "form field data (base64)");
  } catch (err) {
    if (err instanceof EdgeError) throw err;
    throw badRequest("form field data is neither JSON nor base64-encoded JSON");
  }
}

/** True when every character is ASCII (then UTF-8 bytes = string length). */
export const isAscii = (s: string | null | undefined) => !s || /^[\x00-\x7f]*$/.test(s);

export interface ParsedBody {
  json: unknown;
  /** The body was pure ASCII (its decoded length equals its byte length). */
  ascii: boolean;
}

export function parseBodyJson(contentType: string | undefined, body: Uint8Array): unknown {
  return parseBody(contentType, body).json;
}

export function parseBody(contentType: string | undefined, body: Uint8Array): ParsedBody {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (NOT_JSON.test(type)) {
    throw new EdgeError(415, "unsupported_media_type", `Content-Type "${excerpt(type)}" cannot carry events`, "Send JSON (application/json or text/plain).");
  }
  if (body.byteLength === 0) throw badRequest("the request body is empty", "Send a JSON body.");
  const text = bodyText(body);
  const ascii = text.length === body.byteLength;
  if (type === "application/x-www-form-urlencoded") {
    const t = text.trimStart();
    return { json: t.startsWith("{") || t.startsWith("[") ? parseJson(text, "the body") : fromForm(text), ascii: false };
  }
  return { json: parseJson(text, "the body"), ascii };
}
