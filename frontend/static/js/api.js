// Small fetch helpers. A 404/405/501 means "this server does not offer that yet", not an error.

const UNAVAILABLE = new Set([404, 405, 501]);
const CSRF_COOKIE = "lm_csrf"; // double-submit token set at sign-in (livemon/web/auth.py)

function csrfToken() {
  const pair = document.cookie.split("; ").find((c) => c.startsWith(`${CSRF_COOKIE}=`));
  return pair ? decodeURIComponent(pair.slice(CSRF_COOKIE.length + 1)) : "";
}

/**
 * POST a JSON body; never throws.
 * @returns {Promise<{ok: boolean, status: number, unavailable: boolean, body: any}>}
 */
export async function postJSON(url, body = {}) {
  try {
    const response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() }, body: JSON.stringify(body),
    });
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    return { ok: response.ok, status: response.status, unavailable: UNAVAILABLE.has(response.status), body: parsed };
  } catch (error) {
    return { ok: false, status: 0, unavailable: false, body: String(error) };
  }
}

/** GET JSON; returns null when the resource is missing or the server is unreachable. */
export async function getJSON(url) {
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
}
