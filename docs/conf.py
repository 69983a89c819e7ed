"""Sphinx configuration of the SemiSupCon book (``make book``; ``semisup/book.py`` stages it).

The executed notebooks are copied in by ``semisup.book.stage``; nothing is executed here.
"""

project = "SemiSupCon notebooks"
author = "SemiSupCon notebooks contributors"
copyright = "2026, " + author

extensions = [
    "myst_nb",               # MyST Markdown pages and .ipynb pages with their saved outputs
    "sphinx.ext.autodoc",    # api.md: the reference is read from the package's docstrings
    "sphinx.ext.napoleon",   # ... which are numpydoc-style
    "sphinx_design",         # course.md: exercises' solutions folded in dropdowns
]

exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# Notebooks show the outputs `make demo` saved; the build never runs a kernel.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "colon_fence"]
# `[text](page.md#a-heading)` links: anchors for headings down to ###, as GitHub makes them.
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"     # signatures carry them; numpydoc sections describe them
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Module docstrings carry a "Conventions" section (STYLE.md): a rubric, not a document section.
napoleon_custom_sections = ["Conventions"]

# MathJax from the site itself, not a CDN, so equations render offline: semisup.book.stage
# copies jupyter-server-mathjax's MathJax 2.7 into _static/mathjax.
html_static_path = ["_static"]
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"  # the config the package ships
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                "processEscapes": True, "processEnvironments": True,
                # myst-nb marks the page body ignored and the math (and outputs) processed
                "ignoreClass": "tex2jax_ignore|mathjax_ignore",
                "processClass": "tex2jax_process|mathjax_process|math|output_area"},
    # the package ships the STIX-Web fonts only (as the classic notebook configured it)
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None},
}

html_theme = "sphinx_book_theme"
html_title = "SemiSupCon notebooks"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
