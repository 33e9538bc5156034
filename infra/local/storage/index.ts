export { startGcsStore } from "./server.js";
