"""A local page that weighs like a large administration single-page application (the tax or the
health-insurance sites): several MB of script to parse and run, thousands of DOM nodes built by
that script, and images. Generated, deterministic, nothing fetched from anywhere.

When everything is built and every image decoded, the page asks for ``done.txt``: the bench sees
that request in the server's log.
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

SCRIPT_FILES = 6          # "chunks" of a bundled application
FUNCTIONS_PER_FILE = 1800  # each ~0.8 kB: ~1.4 MB per file, ~8.6 MB of script in all
ROWS = 4000               # table rows built by the script (about 10 nodes each)
IMAGES = 40               # 256x256 PNGs (noise: they do not compress away)


def _png(width: int, height: int, seed: int) -> bytes:
    rng = random.Random(seed)
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")


def _script(index: int) -> str:
    rng = random.Random(index)
    parts = [f"window.__chunks = window.__chunks || {{}};\nwindow.__chunks[{index}] = (function () {{\n  var api = {{}};\n"]
    for number in range(FUNCTIONS_PER_FILE):
        words = " ".join(rng.choice(["impôt", "revenu", "foyer", "déclaration", "avis", "montant", "prélèvement",
                                     "situation", "personne", "charge", "pension", "allocation"]) for _ in range(12))
        parts.append(
            f"  api.f{number} = function (state) {{\n"
            f"    var label = {words!r};\n"
            f"    var values = [{', '.join(str(rng.randint(0, 99999)) for _ in range(24))}];\n"
            f"    var total = 0; for (var i = 0; i < values.length; i++) {{ total += values[i] * (state.k || 1); }}\n"
            f"    return {{ id: 'c{index}-{number}', label: label, total: total, cached: new Array(16).fill(label) }};\n"
            f"  }};\n")
    parts.append("  return api;\n})();\n")
    return "".join(parts)


PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Service lourd</title>
<style>body{font-family:sans-serif;margin:0} .g{display:grid;grid-template-columns:repeat(8,1fr);gap:4px}
.g img{width:100%%} table{border-collapse:collapse;width:100%%} td{border:1px solid #ccc;padding:2px}</style>
%(scripts)s
</head><body><h1>Service lourd</h1><div class="g" id="images"></div><table id="rows"></table>
<script>
(function () {
  var state = {k: 3}, results = [];
  Object.keys(window.__chunks).forEach(function (key) {
    var api = window.__chunks[key];
    Object.keys(api).forEach(function (name) { results.push(api[name](state)); });
  });
  window.__results = results;  // kept, as an application keeps its store
  var table = document.getElementById("rows");
  for (var r = 0; r < %(rows)d; r++) {
    var item = results[r %% results.length], tr = document.createElement("tr");
    for (var c = 0; c < 4; c++) {
      var td = document.createElement("td"), span = document.createElement("span");
      span.textContent = item.label.slice(0, 20 + c) + " " + (item.total + c);
      td.appendChild(span); tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  var grid = document.getElementById("images"), pending = %(images)d;
  function one() { pending -= 1; if (pending === 0) { fetch("done.txt?" + results.length); } }
  for (var i = 0; i < %(images)d; i++) {
    var img = new Image(); img.onload = one; img.onerror = one; img.src = "img" + i + ".png"; grid.appendChild(img);
  }
})();
</script></body></html>
"""


def write_heavy_site(directory: Path, *, small: bool = False) -> Path:
    """Write the page, its scripts and images into ``directory`` (created); return it. ``small``:
    the same page at about a tenth of the weight (the bench's quick check of its own machinery)."""
    directory.mkdir(parents=True, exist_ok=True)
    script_files, images, rows = (1, 4, ROWS // 10) if small else (SCRIPT_FILES, IMAGES, ROWS)
    scripts = []
    for index in range(script_files):
        (directory / f"chunk{index}.js").write_text(_script(index), encoding="utf-8")
        scripts.append(f'<script src="chunk{index}.js"></script>')
    for index in range(images):
        (directory / f"img{index}.png").write_bytes(_png(256, 256, index))
    (directory / "done.txt").write_text("ok\n")
    (directory / "index.html").write_text(PAGE % {"scripts": "\n".join(scripts), "rows": rows, "images": images},
                                          encoding="utf-8")
    return directory


def site_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir())
