"""HTML to PDF through WeasyPrint (a well-kept HTML/CSS renderer written for print: page sizes, margins,
page numbers from CSS, fonts through Pango), for the yearly report the association sends to funders.

The document is rendered from a string with no base URL and a fetcher that accepts only ``data:`` URLs:
its images are data: URLs (the logo) or inline SVG, so rendering never reads a file or the network."""

from __future__ import annotations


def _data_only_fetcher():
    from weasyprint import urls
    if hasattr(urls, "URLFetcher"):  # WeasyPrint 68 and later
        return urls.URLFetcher(allowed_protocols=("data",))

    def fetch(url: str, *args, **kwargs):  # earlier versions: a function
        if not url.startswith("data:"):
            raise ValueError(f"external resource refused in the report: {url[:80]}")
        return urls.default_url_fetcher(url, *args, **kwargs)
    return fetch


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML
    return HTML(string=html, url_fetcher=_data_only_fetcher()).write_pdf()
