// The parts of Express 5 the relay server uses (the project does not install @types/express).
declare module "express" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  interface Request extends IncomingMessage {
    url: string;
  }
  interface Response extends ServerResponse {
    redirect(status: number, url: string): void;
  }
  interface Application {
    (req: IncomingMessage, res: ServerResponse): void;
    get(path: string, handler: (req: Request, res: Response) => void): Application;
  }
  function express(): Application;
  export default express;
}
