/** Mainland numbers as 11 digits; other regions in international form (+…). The server decides. */
export function normaliseMobile(value: string): string {
  return value.replace(/[\s-]/g, "");
}

export function looksLikeMobile(value: string): boolean {
  const mobile = normaliseMobile(value);
  return /^1[3-9]\d{9}$/.test(mobile) || /^\+\d{6,15}$/.test(mobile);
}
