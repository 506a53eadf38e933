import { useMemo } from "react";

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);
}

/** The CSS background of the watermark: the text repeated diagonally, from an SVG data URL. */
export function watermarkBackground(text: string): string {
  const svg =
    `<svg xmlns='http://www.w3.org/2000/svg' width='260' height='170'>` +
    `<text x='130' y='85' text-anchor='middle' dominant-baseline='middle' transform='rotate(-22 130 85)' ` +
    `fill='rgba(15,40,80,0.11)' font-size='16' font-family='PingFang SC,Noto Sans CJK SC,Microsoft YaHei,sans-serif'>` +
    `${escapeXml(text)}</text></svg>`;
  return `url("data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}")`;
}

/**
 * Covers the screen with the viewer's name and the last four digits of their mobile (the server
 * decides both whether and what), so a photo of the directory shows who took it. It lies above
 * drawers and dialogs and lets every click through.
 */
export function WatermarkOverlay({ text }: { text: string }) {
  const backgroundImage = useMemo(() => watermarkBackground(text), [text]);
  return <div className="zt-watermark" aria-hidden="true" data-testid="watermark" data-text={text} style={{ backgroundImage }} />;
}
