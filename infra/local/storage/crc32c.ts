/**
 * CRC32C (Castagnoli), as Cloud Storage reports it in `crc32c` and `x-goog-hash`. Node has no builtin
 * for it and the npm packages for it are native addons, so this is the usual 256-entry table loop.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export class Crc32c {
  private crc = 0xffffffff;
  update(buf: Uint8Array): this {
    let c = this.crc;
    for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
    this.crc = c;
    return this;
  }
  /** Base64 of the big-endian 32-bit value, as in the JSON API. */
  base64(): string {
    const v = (this.crc ^ 0xffffffff) >>> 0;
    return Buffer.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]).toString("base64");
  }
}
