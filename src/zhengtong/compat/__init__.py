"""The DingTalk-compatible open API (the design notes' OPENAPI-COMPAT.md): an adapter over the same
services as the native API, so that an integration written for DingTalk works when only its base
URL changes. Answers keep DingTalk's {"errcode", "errmsg"} envelope."""
