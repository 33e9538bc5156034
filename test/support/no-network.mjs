// Preload (`node --import`) for commands that promise to contact nothing: any connection or DNS
// lookup beyond loopback and local sockets is refused and reported on stderr, so a test can assert
// that nothing tried.
import dns from "node:dns";
import net from "node:net";

const local = (host) => !host || host === "localhost" || /^127\./.test(host) || host === "::1";
const refuse = (what) => {
  process.stderr.write(`NETWORK ATTEMPT: ${what}\n`);
  return new Error(`network access refused in this test: ${what}`);
};
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = typeof args[0] === "object" && args[0] !== null ? args[0] : { port: args[0], host: typeof args[1] === "string" ? args[1] : undefined };
  if (!o.path && !local(o.host)) throw refuse(`connect ${o.host}:${o.port}`);
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) {
  if (!local(host)) throw refuse(`lookup ${host}`);
  return lookup.call(this, host, ...rest);
};
