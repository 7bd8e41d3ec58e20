"""docxtpl with its per-render preprocessing done once per template.

docxtpl re-runs its tag-cleaning regexes and recompiles the Jinja source
on every render (~0.1 s a sheet); both depend only on the template's XML,
so they are cached here. The rendered output is the same.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import Environment, Template

TEMPLATE_CACHE_ENTRIES = 8


@lru_cache(maxsize=TEMPLATE_CACHE_ENTRIES)
def _patched(xml: str) -> str:
    return DocxTemplate.patch_xml(_PATCHER, xml)


class _CachingEnvironment(Environment):
    @lru_cache(maxsize=TEMPLATE_CACHE_ENTRIES)  # noqa: B019 - one long-lived environment per process
    def _compiled(self, source: str) -> Template:
        return super().from_string(source)

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Template:
        if globals is None and template_class is None and isinstance(source, str):
            return self._compiled(source)
        return super().from_string(source, globals, template_class)


_ENVIRONMENT = _CachingEnvironment(autoescape=True)


class FastDocxTemplate(DocxTemplate):
    def patch_xml(self, xml: str) -> str:
        return _patched(xml)

    def render_fast(self, context: dict[str, Any]) -> None:
        """render() with autoescape on, as every ducha document needs."""
        self.render(context, jinja_env=_ENVIRONMENT, autoescape=True)


_PATCHER = DocxTemplate.__new__(DocxTemplate)
