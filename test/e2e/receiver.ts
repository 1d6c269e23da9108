// An HTTP receiver for alert pings, in its own container on the default bridge network
// (where the sandbox targets are, reached by its address): each POST becomes one JSON line
// on the container's stdout, {"path": ..., "body": ...}.
import { execa } from 'execa';

const RECEIVER_PY = `
import http.server, json
class Ping(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print(json.dumps({"path": self.path, "body": body.decode("utf-8", "replace")}), flush=True)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Ping).serve_forever()
`;

export interface Ping {
  path: string;
  body: string;
}

/**
 * Starts the receiver as container `name` from the image of the sandbox target `target`
 * (which has python3, for Ansible); resolves to its base URL, http://ADDRESS:8080.
 */
export async function pingReceiver(name: string, target: string): Promise<string> {
  const image = (await execa('docker', ['inspect', '-f', '{{.Config.Image}}', target])).stdout.trim();
  await execa('docker', ['run', '-d', '--name', name, '--entrypoint', 'python3', image, '-c', RECEIVER_PY]);
  const ip = (await execa('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name])).stdout.trim();
  return `http://${ip}:8080`;
}

/** Every ping the receiver in container `name` has recorded, oldest first. */
export async function pings(name: string): Promise<Ping[]> {
  const logs = await execa('docker', ['logs', name]);
  return logs.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Ping);
}
