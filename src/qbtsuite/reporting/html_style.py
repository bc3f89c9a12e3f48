"""The inline stylesheet of ``report.html`` (no external fonts or assets)."""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
:root{--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--unsupported:#8250df;
--skipped:#6e7781;--error:#bc4c00;--line:#d0d7de;--soft:#f6f8fa;--ink:#1f2328}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:#fff}
main{max-width:1180px;margin:0 auto;padding:0 24px 48px}
h1{margin:0;font-size:34px;letter-spacing:-.5px}
h2{font-size:20px;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:0 0 6px}
h4{font-size:13px;margin:14px 0 4px;text-transform:uppercase;color:#57606a;letter-spacing:.4px}
code,pre{font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px 12px;
overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-word;margin:6px 0}
pre.msg{border-left:4px solid var(--fail)}
pre.repro{border-left:4px solid #0969da;background:#f6f8fa}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
.verdict{margin:0 -24px;padding:28px 24px 22px;color:#fff}
.verdict p{margin:4px 0 0;opacity:.9}
.verdict.ok{background:linear-gradient(135deg,#1a7f37,#2da44e)}
.verdict.bad{background:linear-gradient(135deg,#a40e26,#cf222e)}
.banner{margin:0 -24px;padding:10px 24px;background:#fff8c5;color:#4d2d00;border-bottom:1px solid #d4a72c;font-weight:600}
.verdict.meh{background:linear-gradient(135deg,#7d4e00,#bc4c00)}
.facts{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start;margin-top:18px}
.facts dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0;flex:1 1 420px}
.facts dt{color:#57606a}.facts dd{margin:0;word-break:break-all}
.chips{display:flex;flex-wrap:wrap;gap:8px}
.chip{min-width:92px;padding:8px 10px;border-radius:8px;background:var(--soft);
border-top:4px solid;font-size:12px;color:#57606a;text-align:center}
.chip b{display:block;font-size:22px;color:var(--ink)}
table{border-collapse:collapse;width:100%}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:12px;text-transform:uppercase;color:#57606a;letter-spacing:.4px}
td.num,.matrix td{text-align:right;font-variant-numeric:tabular-nums}
.matrix td.zero{color:#afb8c1}.matrix td.n{font-weight:600}
.matrix td:last-child{width:28%}
.bar{display:flex;height:10px;border-radius:5px;overflow:hidden;background:var(--soft);
min-width:120px}
summary .bar{display:inline-flex;width:220px;vertical-align:middle;margin-left:10px}
.bar span{display:block;height:100%}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;
font-weight:600;color:#fff;vertical-align:1px}
.o-pass{--c:var(--pass)}.o-fail{--c:var(--fail)}.o-warn{--c:var(--warn)}
.o-unsupported{--c:var(--unsupported)}.o-skipped{--c:var(--skipped)}.o-error{--c:var(--error)}
.badge,.bar span{background:var(--c)}.chip{border-top-color:var(--c)}
.matrix td.n{color:var(--c)}
details{border:1px solid var(--line);border-radius:8px;margin:8px 0;padding:6px 12px}
details>summary{cursor:pointer;padding:4px 0}
details details{border:none;padding:0 0 0 4px;margin:2px 0}
.card{border:1px solid var(--line);border-left:5px solid var(--fail);border-radius:8px;
padding:14px 16px;margin:12px 0}
.card.b-warn{border-left-color:var(--warn)}.card.b-error{border-left-color:var(--error)}
.card.b-warn pre.msg{border-left-color:var(--warn)}.card.b-error pre.msg{border-left-color:var(--error)}
.card p{margin:4px 0}
ul.tests{list-style:none;padding:0;margin:0}ul.tests>li{padding:6px 0;border-top:1px dashed var(--line)}
.dim{color:#57606a;font-size:13px;font-weight:400}
.reason{margin:4px 0;color:#57606a}.note{margin:4px 0;font-size:13px;color:#57606a}
.ids{font:12.5px/1.6 ui-monospace,Menlo,Consolas,monospace;color:#57606a}
footer{margin-top:40px;color:#8c959f;font-size:12px}
@media print{details{break-inside:avoid}.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""
