"""Display helpers shared by list and detail pages."""


def yes_no(value) -> str:
    return "是" if value else "否"
