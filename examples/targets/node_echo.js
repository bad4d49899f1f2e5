// A Node `net` echo server as the docs' first example writes it, with no
// 'error' handler on the sockets. A client that resets its connection makes
// the socket emit 'error' (ECONNRESET); with no listener Node throws it, and
// the process dies printing the error object on stderr:
//   Error: read ECONNRESET
//     errno: -104, code: 'ECONNRESET', syscall: 'read'
// It prints no netrepro JSON events: the report's server errors come from
// that text (source = text). https://nodejs.org/api/net.html
// https://nodejs.org/api/events.html#error-events
//
// Run: node node_echo.js --port 9000
'use strict';
const net = require('net');

const i = process.argv.indexOf('--port');
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
const server = net.createServer((socket) => {
  socket.pipe(socket); // the bug: no socket.on('error', ...)
});
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(`LISTENING ${a.address}:${a.port}`);
});
