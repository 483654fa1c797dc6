"""Import this module to warm the math parser: the worker pool's fork server preloads it.

The ANTLR LaTeX parser and sympy build caches on their first use of each construct
(50-250 ms each, cold). Running a few representative comparisons once in the fork
server means every forked worker starts with them, so a worker's first real job does
not spend its deadline warming up. Importing it anywhere else only costs that time.
"""

from __future__ import annotations

from .compare import compare_texts

__all__: list[str] = []

_PAIRS = (
    (r"\frac{\sqrt{3}}{2}", r"\frac{1}{2}\sqrt{3}"),
    (r"\frac{\pi}{4}", "45^\\circ"),
    (r"2\sqrt{2}", r"\sqrt{8}"),
    (r"3 \sqrt 6", r"\sqrt{54}"),
    (r"x^2+2x+1", r"(x+1)^2"),
    (r"x^{2} + 5 x + 6", r"(x+2)(x+3)"),
    (r"\frac{n(n+1)}{2}", r"\frac{n^2+n}{2}"),
    (r"3x+4y+14=0", r"y=-\frac{3}{4}x-\frac{7}{2}"),
    (r"y = -3x - 1", r"-3x - y - 1 = 0"),
    (r"3+4i", r"4i+3"),
    (r"-1+7i", r"-1 + 7\mathrm{i}"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{bmatrix}1&2\\3&4\end{bmatrix}"),
    (
        r"\begin{pmatrix} 0 & -1 \\ 8 & -5 \end{pmatrix}",
        r"\begin{pmatrix}\sqrt{2}&\pi\\x&-\frac{1}{2}\end{pmatrix}",
    ),
    (r"(-\infty, 2) \cup (3, \infty)", r"x<2 \text{ or } x>3"),
    (r"[-\sqrt{2}, \pi)", r"-\sqrt{2} \le x < \pi"),
    (r"\{1, \sqrt{2}\}", r"\sqrt2, 1"),
    (r"2 \pm \sqrt{3}", r"2+\sqrt{3}, 2-\sqrt{3}"),
    (r"\log_2 8 + \ln(e) + \sin(\frac{\pi}{6})", r"\frac{9}{2}"),
    (r"\cos 60^\circ + \tan(x) + \arctan 1", r"\sec x"),
    (r"\binom{5}{2} + 3!", "16"),
    (r"0.5", r"\frac{1}{2}"),
    (r"|x-1|", r"\left|x-1\right|"),
    (r"\sqrt[3]{2}", r"2^{1/3}"),
    (r"e^{2}", r"\exp(2)"),
    (r"\frac{a+b}{c-d}", r"\frac{a}{c-d}+\frac{b}{c-d}"),
    (r"a_1 + a_{10}", r"a_{1}+a_{10}"),
    (r"\theta + \alpha\beta", r"\alpha \cdot \beta + \theta"),
    (r"2^{10} \times 3", r"3 \cdot 1024"),
    (r"\frac{1}{2^{99}}", r"2^{-99}"),
    (r"f(x)=2x+3", r"2x+3"),
    (r"x^2+y^2=4", r"x^2+y^2-4=0"),
    (r"\frac{x^2}{4}+\frac{y^2}{9}=1", r"9x^2+4y^2=36"),
    (r"\frac{3\pi}{4}", r"3\pi/4"),
    (r"\frac{1+\sqrt{5}}{2}", r"\frac{1}{2}+\frac{\sqrt{5}}{2}"),
    (r"10\sqrt{10} - 4", r"-4+\sqrt{1000}"),
    (r"\frac{2006!}{2005!}", r"2006"),
    (r"\sum_{k=1}^{10} k", r"55"),
)


def warm() -> None:
    """Run the representative comparisons (safe to call again; cheap once warm)."""
    for gold, pred in _PAIRS:
        try:
            compare_texts(gold, pred)
        except Exception:  # warming must never stop the pool from starting
            continue


warm()
