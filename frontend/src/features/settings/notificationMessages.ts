// UI strings of 设置 → 通知设置: channels per kind of notice, quiet hours, Web Push to this browser.
// zh-CN first; English must have the same keys (the type checks it).
export const notificationsZh = {
  "settings.notifications": "通知设置",

  "notify.channels": "通知渠道",
  "notify.channelsHelp": "选择各类通知通过哪些渠道提醒您。应用内通知（右上角的铃铛）始终开启。",
  "notify.category": "通知类型",
  "notify.category.system": "系统通知",
  "notify.category.ding": "DING 消息",
  "notify.category.work_notice": "工作通知",
  "notify.category.mention": "@提及我",
  "notify.channel.sms": "短信",
  "notify.channel.email": "邮件",
  "notify.channel.push": "推送",
  "notify.required": "安全事件、停止运营和单位注销的通知依法必须送达，不受以上选择和免打扰时段影响。",

  "notify.quiet": "免打扰时段",
  "notify.quietHelp":
    "此时段内的短信、邮件和推送会等到时段结束后再发送，紧急通知除外。与聊天中的“下班勿扰”是同一项设置，按单位分别保存。",
  "notify.quietNoOrg": "进入一个单位后，可以设置在该单位的免打扰时段。",
  "notify.inQuiet": "当前处于免打扰时段",
  "notify.from": "开始",
  "notify.to": "结束",
  "notify.timezone": "时区",
  "notify.saved": "通知设置已保存",

  "notify.push": "在此浏览器接收推送",
  "notify.pushHelp": "开启后，即使没有打开政通页面，这个浏览器也会弹出通知。退出登录后不再推送到这个浏览器。",
  "notify.pushOn": "已开启推送",
  "notify.pushOff": "已关闭此浏览器的推送",
  "notify.pushUnsupported": "当前浏览器不支持推送通知。",
  "notify.pushDenied": "浏览器阻止了通知。请在浏览器的网站设置中允许本网站发送通知，然后再试。",
  "notify.pushUnreachable":
    "无法连接浏览器的推送服务。推送服务由浏览器厂商提供，当前网络可能无法访问它；邮件和短信提醒不受影响。",
  "notify.pushDetail": "浏览器的说明：{reason}",
} as const;

export const notificationsEn: Record<keyof typeof notificationsZh, string> = {
  "settings.notifications": "Notifications",

  "notify.channels": "Channels",
  "notify.channelsHelp":
    "Choose how each kind of notice reaches you. Notices in the app (the bell at the top) are always on.",
  "notify.category": "Kind of notice",
  "notify.category.system": "System notices",
  "notify.category.ding": "DING messages",
  "notify.category.work_notice": "Work notices",
  "notify.category.mention": "Mentions of me",
  "notify.channel.sms": "SMS",
  "notify.channel.email": "E-mail",
  "notify.channel.push": "Push",
  "notify.required":
    "Notices of security incidents, the service shutting down and an organisation's deregistration must reach you by law: your choices and quiet hours do not apply to them.",

  "notify.quiet": "Quiet hours",
  "notify.quietHelp":
    "During these hours SMS, e-mail and push wait until the hours end, except urgent notices. This is the same setting as the chat's quiet hours, kept per organisation.",
  "notify.quietNoOrg": "Enter an organisation to set your quiet hours there.",
  "notify.inQuiet": "Quiet hours now",
  "notify.from": "From",
  "notify.to": "To",
  "notify.timezone": "Time zone",
  "notify.saved": "Notification settings saved",

  "notify.push": "Push to this browser",
  "notify.pushHelp":
    "When on, this browser shows notifications even when Zhengtong is not open. Logging out stops pushes to this browser.",
  "notify.pushOn": "Push is on",
  "notify.pushOff": "Push to this browser is off",
  "notify.pushUnsupported": "This browser does not support push notifications.",
  "notify.pushDenied":
    "The browser blocked notifications. Allow this site to show notifications in the browser's site settings, then try again.",
  "notify.pushUnreachable":
    "The browser's push service cannot be reached. It is run by the browser's maker and this network may not reach it; e-mail and SMS reminders are not affected.",
  "notify.pushDetail": "The browser said: {reason}",
};
