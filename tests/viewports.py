"""The two widths every browser test of a user flow runs at, and the checks every page should pass at them."""

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


def open_menu(page) -> None:
    """On a phone the main links sit behind "Menu" (a <details>): open it. On a desktop they show already."""
    menu = page.get_by_role("navigation", name="Main").locator("summary", has_text="Menu")
    if menu.is_visible() and menu.locator("xpath=..").get_attribute("open") is None:
        menu.click()


def assert_no_sideways_scroll(page) -> None:
    """The page fits its window: nothing makes a phone scroll sideways."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width > inner:
        culprits = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                    + ' (' + Math.round(e.getBoundingClientRect().right) + 'px)')"""
        )
        raise AssertionError(f"{page.url} is {width}px wide in a {inner}px window; too wide: {culprits}")


def assert_no_axe_violations(page) -> None:
    """axe-core (shipped with axe-playwright-python, run offline) finds no violation of any impact."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    if violations:
        lines = [
            f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}" for v in violations
        ]
        raise AssertionError(f"axe-core on {page.url}:\n" + "\n".join(lines))
