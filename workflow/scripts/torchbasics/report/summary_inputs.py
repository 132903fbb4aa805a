"""The names of the summary rule's inputs: one owner for the workflow, which declares them, and the page's entry
script, which reads them. A per-variant input is named by the variant, never matched to it by its position."""


def page_input(name: str, variant: str) -> str:
    """The input ``name`` of ``variant`` (its run of the shown seed, or its comparison with the baseline)."""
    return f"{name}_{variant}"
