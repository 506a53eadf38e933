import type { ThemeConfig } from "antd";

// Calm, official look: government blue, neutral greys, Chinese fonts first.
export const FONT_FAMILY =
  '"PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "Hiragino Sans GB", ' +
  '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export const theme: ThemeConfig = {
  token: {
    colorPrimary: "#1677ff",
    colorInfo: "#1677ff",
    colorBgLayout: "#f3f6fa",
    borderRadius: 6,
    fontFamily: FONT_FAMILY,
  },
  components: {
    Layout: {
      headerBg: "#ffffff",
      siderBg: "#ffffff",
      headerPadding: "0 16px",
      headerHeight: 56,
    },
    Menu: {
      itemSelectedBg: "#e6f4ff",
      itemBorderRadius: 6,
    },
  },
};
