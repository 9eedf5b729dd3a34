// The tiny frontend of the end-to-end tests, on http://localhost:3000 like a Next.js app:
// Better Auth (email and password, the jwt plugin, an in-memory store: no network), one static
// page, and the token a frontend signs itself with BETTER_AUTH_SECRET (the shared-secret mode).
//
//   API_URL=http://127.0.0.1:8000 BETTER_AUTH_SECRET=... node server.mjs
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler, fromNodeHeaders } from "better-auth/node";
import { jwt } from "better-auth/plugins";
import { SignJWT } from "jose";

const port = Number(process.env.PORT ?? 3000);
const origin = `http://localhost:${port}`;
const apiUrl = process.env.API_URL ?? "http://127.0.0.1:8000";
const secret = process.env.BETTER_AUTH_SECRET;
if (!secret || secret.length < 32) {
  throw new Error("BETTER_AUTH_SECRET must be set, 32 characters or more");
}

export const auth = betterAuth({
  baseURL: origin,
  secret,
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true, autoSignIn: true },
  telemetry: { enabled: false },
  plugins: [
    jwt({
      // A new signing key every JWT_ROTATION_SECONDS (the old one stays published), so that
      // the tests can watch the API pick up a rotated key without a restart.
      jwks: process.env.JWT_ROTATION_SECONDS
        ? { rotationInterval: Number(process.env.JWT_ROTATION_SECONDS) }
        : undefined,
    }),
  ],
});

const authHandler = toNodeHandler(auth);
const pages = {
  "/": ["public/index.html", "text/html; charset=utf-8"],
  "/app.js": ["public/app.js", "text/javascript; charset=utf-8"],
};

/** A token signed here with the shared secret for the signed-in user (HS256, 15 minutes). */
async function sharedSecretToken(req, res) {
  const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
  if (!session) {
    res.writeHead(401, { "content-type": "application/json" }).end('{"error":"not signed in"}');
    return;
  }
  const { user } = session;
  const token = await new SignJWT({ email: user.email, name: user.name })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    // The API checks iss and aud on every token once BETTER_AUTH_ISSUER/AUDIENCE are set.
    .setIssuer(origin)
    .setAudience(origin)
    .setIssuedAt()
    .setExpirationTime("15m")
    .sign(new TextEncoder().encode(secret));
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
}

createServer(async (req, res) => {
  const path = new URL(req.url, origin).pathname;
  try {
    if (path.startsWith("/api/auth/")) return authHandler(req, res);
    if (path === "/shared-secret-token") return await sharedSecretToken(req, res);
    if (path === "/config.json") {
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ apiUrl }));
    }
    const page = pages[path];
    if (!page) return res.writeHead(404).end("not found");
    const body = await readFile(new URL(page[0], import.meta.url));
    res.writeHead(200, { "content-type": page[1] }).end(body);
  } catch (error) {
    console.error(error);
    res.writeHead(500).end("frontend error");
  }
}).listen(port, "127.0.0.1", () => console.log(`frontend on ${origin}, API at ${apiUrl}`));
