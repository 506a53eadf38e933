// The DING's one attachment, uploaded before sending so that the form shows progress
// (XMLHttpRequest: fetch reports no upload progress).
import { readCookie } from "../../api/client";
import { getLanguage, translate } from "../../i18n";
import type { DingFile } from "./model";

export interface Upload {
  done: Promise<DingFile>;
  abort: () => void;
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function uploadAttachment(file: File, onProgress: (percent: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<DingFile>((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.open("POST", "/api/v1/ding/files/upload");
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", getLanguage());
    const csrf = readCookie("zt_csrf");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(Math.min(99, Math.round((event.loaded / event.total) * 100)));
    };
    xhr.onerror = () => reject(new Error(translate(getLanguage(), "error.network")));
    xhr.onabort = () => reject(new Error("aborted"));
    xhr.onload = () => {
      const body = parse(xhr.responseText);
      if (xhr.status < 200 || xhr.status >= 300 || typeof body?.id !== "string") {
        reject(new Error(typeof body?.message === "string" ? body.message : translate(getLanguage(), "error.network")));
        return;
      }
      onProgress(100);
      resolve(body as unknown as DingFile);
    };
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
