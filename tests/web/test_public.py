"""Public pages: certificate verification needs no login and is rate-limited per client."""

from __future__ import annotations


def test_verify_unknown_number_and_rate_limit(ctx):
    ctx.config["PUBLIC_RATE_LIMIT"] = "3 per minute"
    try:
        client = ctx.test_client()
        for _ in range(3):
            page = client.get("/certificates/verify", query_string={"number": "LSCD20220000001"})
            assert page.status_code == 200 and "未找到该证书" in page.get_data(as_text=True)
        refused = client.get("/certificates/verify", query_string={"number": "LSCD20220000002"})
        assert refused.status_code == 429
        assert "请求过于频繁" in refused.get_data(as_text=True)
        other = ctx.test_client().get("/certificates/verify", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 200  # the limit is per client address
        for _ in range(5):
            assert client.get("/healthz").status_code == 200  # monitoring is never throttled
    finally:
        ctx.config["PUBLIC_RATE_LIMIT"] = "30 per minute"


def test_verify_form_is_public_and_chinese(ctx):
    page = ctx.test_client().get("/certificates/verify")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "职称证书查验" in html
    assert "verify-result" not in html
