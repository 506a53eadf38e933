"""Files the client downloads: one shape of answer for every zip a job produced."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response

from zhengtong.platform.job_files import JobFile


def zip_download(file: JobFile, ascii_name: str) -> Response:
    """`ascii_name` for old browsers; the real name (Chinese dates or names) in filename*."""
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file.filename)}"
    return Response(
        file.content,
        media_type="application/zip",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
