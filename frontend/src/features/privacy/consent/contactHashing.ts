// Contact matching in the browser: numbers are normalised to E.164 and hashed with
// HMAC-SHA256 under the organisation's matching key; only the hex hashes leave the browser.

/** The mainland mobile numbers (and numbers given with a country code) in free text, as E.164. */
export function parseContactNumbers(text: string): string[] {
  const numbers = new Set<string>();
  for (const raw of text.split(/[\n,;，；]+/)) {
    const compact = raw.replace(/[\s\-()（）]/g, "");
    let digits = compact.replace(/^\+/, "").replace(/\D/g, "");
    if (!digits) continue;
    if (compact.startsWith("00")) digits = digits.slice(2);
    if (digits.length === 11 && digits.startsWith("1")) numbers.add(`+86${digits}`);
    else if (digits.length === 13 && digits.startsWith("861")) numbers.add(`+${digits}`);
    else if (compact.startsWith("+") || compact.startsWith("00")) numbers.add(`+${digits}`);
  }
  return [...numbers];
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** HMAC-SHA256(key, number) for each number, as hex. */
export async function contactHashes(base64Key: string, numbers: string[]): Promise<string[]> {
  const key = await window.crypto.subtle.importKey("raw", fromBase64(base64Key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const encoder = new TextEncoder();
  return Promise.all(numbers.map(async (number) => toHex(await window.crypto.subtle.sign("HMAC", key, encoder.encode(number)))));
}
