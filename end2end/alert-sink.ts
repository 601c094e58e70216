// Where a gateway's budget alerts land in the tests: a small SMTP server on loopback (the part
// of SMTP a client needs to deliver: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeping
// every message, and a webhook receiver keeping every body with its signature header.
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import { createServer as createTcp, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Mail {
  to: string[];
  /** Headers and body as sent (quoted-printable, folded headers). */
  data: string;
}

export interface Posted {
  signature: string;
  body: string;
}

export interface AlertSink {
  /** `smtp://127.0.0.1:PORT`, for `TOLLGATE_SMTP_URL`. */
  smtpUrl: string;
  hookUrl: string;
  mails: Mail[];
  posted: Posted[];
  stop: () => Promise<void>;
}

export async function startAlertSink(): Promise<AlertSink> {
  const mails: Mail[] = [];
  const posted: Posted[] = [];
  const smtp = createTcp((socket) => session(socket, mails));
  const hooks = createHttp((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posted.push({
        signature: String(req.headers['tollgate-signature'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.statusCode = 204;
      res.end();
    });
  });
  await listen(smtp);
  await listen(hooks);
  return {
    smtpUrl: `smtp://127.0.0.1:${(smtp.address() as AddressInfo).port}`,
    hookUrl: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`,
    mails,
    posted,
    stop: async () => {
      await new Promise((r) => smtp.close(r));
      await new Promise((r) => hooks.close(r));
    },
  };
}

function listen(server: TcpServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
}

function session(socket: Socket, mails: Mail[]) {
  let buffer = '';
  let to: string[] = [];
  let data: string | null = null;
  socket.write('220 localhost alert sink\r\n');
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (;;) {
      if (data !== null) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        data += buffer.slice(0, end);
        buffer = buffer.slice(end + 5);
        mails.push({ to, data: data.replace(/\r\n\.\./g, '\r\n.') });
        data = null;
        to = [];
        socket.write('250 queued\r\n');
        continue;
      }
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') socket.write('250 localhost\r\n');
      else if (verb === 'RCPT') {
        to.push(line.replace(/^RCPT TO:\s*<?([^>]*)>?.*$/i, '$1'));
        socket.write('250 ok\r\n');
      } else if (verb === 'DATA') {
        data = '';
        socket.write('354 go ahead\r\n');
      } else if (verb === 'QUIT') {
        socket.end('221 bye\r\n');
        return;
      } else socket.write('250 ok\r\n');
    }
  });
  socket.on('error', () => undefined);
}
