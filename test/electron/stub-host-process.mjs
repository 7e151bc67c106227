// A stand-in host process for main's tests of what happens around the host (restarts, a host that keeps
// ending): it speaks the real message shape (electron/shell/host-messages.ts) over Node's IPC channel,
// starts in a few milliseconds and answers every request 200 with its pid.
process.on('message', (message) => {
  switch (message.type) {
    case 'start':
      process.send({ type: 'ready' });
      break;
    case 'request':
      process.send({ type: 'response', id: message.id, response: { status: 200, headers: { 'content-type': 'application/json' }, body: { pid: process.pid } } });
      break;
    case 'ping':
      process.send({ type: 'pong', id: message.id });
      break;
    case 'lock-all':
    case 'close':
      process.send({ type: 'done', id: message.id });
      break;
  }
});
