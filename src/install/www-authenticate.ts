/** One challenge from a `WWW-Authenticate` header (RFC 9110 §11.6.1): a scheme and its auth-params. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** A WWW-Authenticate header or Bearer challenge this client cannot use. */
export class ChallengeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChallengeError';
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/**
 * Parses every challenge in a WWW-Authenticate header, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:rancher/k3s:pull"`.
 * Parameter names are lower-cased; quoted values are unescaped. Throws on syntax it cannot read.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let rest = header.trim();
  const fail = (): never => {
    throw new ChallengeError(`unreadable WWW-Authenticate header ${JSON.stringify(header.slice(0, 200))}`);
  };
  while (rest !== '') {
    const scheme = TOKEN.exec(rest)?.[0] ?? fail();
    rest = rest.slice(scheme.length).trimStart();
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    while (rest !== '') {
      const name = TOKEN.exec(rest)?.[0];
      const afterName = name === undefined ? '' : rest.slice(name.length).trimStart();
      // A token not followed by "=" starts the next challenge.
      if (name === undefined || !afterName.startsWith('=')) break;
      rest = afterName.slice(1).trimStart();
      let value: string;
      if (rest.startsWith('"')) {
        const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest) ?? fail();
        value = quoted[1].replace(/\\(.)/g, '$1');
        rest = rest.slice(quoted[0].length);
      } else {
        // RFC 9110 wants a token here, but registries send unquoted URLs too; read up to the next separator.
        value = /^[^\s,"]+/.exec(rest)?.[0] ?? fail();
        rest = rest.slice(value.length);
      }
      // defineProperty, not assignment: a parameter named __proto__ must stay a plain key.
      Object.defineProperty(challenge.params, name.toLowerCase(), { value, enumerable: true, writable: true, configurable: true });
      rest = rest.trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
    }
    if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
  }
  return challenges;
}

/** The token request URL for a Bearer challenge: realm plus service and scope query parameters. */
export function bearerTokenUrl(challenge: Challenge, fallbackScope: string): string {
  const realm = challenge.params.realm;
  if (!realm) throw new ChallengeError('Bearer challenge without a realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new ChallengeError(`Bearer realm ${JSON.stringify(realm.slice(0, 200))} is not a URL`);
  }
  // Plain http is refused later, by the HTTP client, unless the host is listed in insecureRegistries.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ChallengeError(`Bearer realm ${realm.slice(0, 200)} is not an http(s) URL`);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? fallbackScope);
  return url.href;
}
