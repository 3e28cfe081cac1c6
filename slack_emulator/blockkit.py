"""Block Kit validation with Slack's published limits and Slack's error strings.

Real Slack refuses a message or view whose blocks break a rule, answering with one error
per problem, each naming where it is: `must be less than 3001 characters
[json-pointer:/blocks/0/text/text]`. The emulator refuses the same payloads, so a test
that passes here does not fail on Slack.
"""

from __future__ import annotations

import secrets

from slack_emulator.workspace import SlackError

BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "rich_text",
    "section",
    "video",
    "markdown",
}
SELECTS = {
    f"{kind}_select" for kind in ("static", "external", "users", "conversations", "channels")
} | {
    f"multi_{kind}_select" for kind in ("static", "external", "users", "conversations", "channels")
}
PICKERS = {"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons"}
TEXT_INPUTS = {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
    "file_input",
}
ACCESSORIES = {"button", "overflow", "image"} | SELECTS | PICKERS
ACTION_ELEMENTS = {"button", "overflow", "workflow_button", "rich_text_input"} | SELECTS | PICKERS
INPUT_ELEMENTS = TEXT_INPUTS | SELECTS | PICKERS
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}


class Checker:
    """Collects every problem, as Slack lists them all at once."""

    def __init__(self, surface: str):
        self.surface = surface  # message | modal | home
        self.errors: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    # Scalars

    def string(self, obj: dict, key: str, at: str, limit: int, required: bool = False) -> None:
        value = obj.get(key)
        if value is None:
            if required:
                self.fail(f"missing required field: {key}", at)
            return
        if not isinstance(value, str):
            self.fail("must be a string", f"{at}/{key}")
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", f"{at}/{key}")

    def boolean(self, obj: dict, key: str, at: str) -> None:
        if key in obj and not isinstance(obj[key], bool):
            self.fail("must be a boolean", f"{at}/{key}")

    def items(self, obj: dict, key: str, at: str, low: int, high: int) -> list:
        value = obj.get(key)
        if not isinstance(value, list):
            if value is not None or low:
                self.fail(f"missing required field: {key}", at)
            return []
        if len(value) > high:
            self.fail(f"no more than {high} items allowed", f"{at}/{key}")
        elif len(value) < low:
            self.fail(f"must provide at least {low} items", f"{at}/{key}")
        return value

    # Composition objects

    def text(
        self, obj, at: str, limit: int, plain_only: bool = False, required: bool = True
    ) -> None:
        if obj is None:
            if required:
                self.fail("must provide an object", at)
            return
        if not isinstance(obj, dict):
            self.fail("must provide an object", at)
            return
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.fail("must be a valid enum value", f"{at}/type")
        value = obj.get("text")
        if not isinstance(value, str):
            self.fail("missing required field: text", at)
        elif not value:
            self.fail("must be more than 0 characters", f"{at}/text")
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", f"{at}/text")
        self.boolean(obj, "emoji", at)
        self.boolean(obj, "verbatim", at)

    def confirm(self, obj, at: str) -> None:
        if not isinstance(obj, dict):
            self.fail("must provide an object", at)
            return
        self.text(obj.get("title"), f"{at}/title", 100, plain_only=True)
        self.text(obj.get("text"), f"{at}/text", 300)
        self.text(obj.get("confirm"), f"{at}/confirm", 30, plain_only=True)
        self.text(obj.get("deny"), f"{at}/deny", 30, plain_only=True)
        if "style" in obj and obj["style"] not in ("primary", "danger"):
            self.fail("must be a valid enum value", f"{at}/style")

    def options(self, element: dict, at: str) -> None:
        for n, option in enumerate(self.items(element, "options", at, 0, 100)):
            here = f"{at}/options/{n}"
            if not isinstance(option, dict):
                self.fail("must provide an object", here)
                continue
            self.text(option.get("text"), f"{here}/text", 75)
            self.string(option, "value", here, 150, required=True)

    # Elements

    def element(self, element, at: str, allowed: set[str]) -> None:
        if not isinstance(element, dict):
            self.fail("must provide an object", at)
            return
        kind = element.get("type")
        if kind not in allowed:
            self.fail(f"unsupported type: {kind}", f"{at}/type")
            return
        if kind == "image":
            self.string(element, "image_url", at, 3000, required="slack_file" not in element)
            self.string(element, "alt_text", at, 2000, required=True)
            return
        self.string(element, "action_id", at, 255)
        if "confirm" in element:
            self.confirm(element["confirm"], f"{at}/confirm")
        if kind == "button":
            self.text(element.get("text"), f"{at}/text", 75, plain_only=True)
            self.string(element, "value", at, 2000)
            self.string(element, "url", at, 3000)
            self.string(element, "accessibility_label", at, 75)
            if "style" in element and element["style"] not in ("primary", "danger"):
                self.fail("must be a valid enum value", f"{at}/style")
        elif kind == "plain_text_input":
            self.text(element.get("placeholder"), f"{at}/placeholder", 150, True, False)
            for key in ("min_length", "max_length"):
                value = element.get(key)
                if value is not None and (
                    not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3000
                ):
                    self.fail("must be an integer from 0 to 3000", f"{at}/{key}")
            self.string(element, "initial_value", at, 3000)
            self.boolean(element, "multiline", at)
        elif kind in SELECTS or kind in ("overflow", "checkboxes", "radio_buttons"):
            self.text(element.get("placeholder"), f"{at}/placeholder", 150, True, False)
            if kind in ("static_select", "multi_static_select", "checkboxes", "radio_buttons"):
                if "option_groups" not in element:
                    self.items(element, "options", at, 1, 100)
                    self.options(element, at)
            elif kind == "overflow":
                self.items(element, "options", at, 1, 5)
                self.options(element, at)

    # Blocks

    def blocks(self, blocks, at: str) -> None:
        if not isinstance(blocks, list):
            self.fail("must provide an array", at)
            return
        limit = MAX_BLOCKS[self.surface]
        if len(blocks) > limit:
            self.fail(f"no more than {limit} items allowed", at)
        seen: set[str] = set()
        for n, block in enumerate(blocks):
            here = f"{at}/{n}"
            if not isinstance(block, dict):
                self.fail("must provide an object", here)
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.string(block, "block_id", here, 255)
                if isinstance(block_id, str) and block_id in seen:
                    self.fail(f"duplicate block_id: {block_id}", f"{here}/block_id")
                seen.add(str(block_id))
            self.block(block, here)

    def block(self, block: dict, at: str) -> None:
        kind = block.get("type")
        if kind not in BLOCK_TYPES or (kind == "input" and self.surface == "message"):
            self.fail(f"unsupported type: {kind}", f"{at}/type")
            return
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail("must provide either text or fields", at)
            if "text" in block:
                self.text(block["text"], f"{at}/text", 3000)
            for n, field_ in enumerate(self.items(block, "fields", at, 0, 10)):
                self.text(field_, f"{at}/fields/{n}", 2000)
            if "accessory" in block:
                self.element(block["accessory"], f"{at}/accessory", ACCESSORIES)
        elif kind == "header":
            self.text(block.get("text"), f"{at}/text", 150, plain_only=True)
        elif kind == "context":
            for n, element in enumerate(self.items(block, "elements", at, 1, 10)):
                here = f"{at}/elements/{n}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.element(element, here, {"image"})
                else:
                    self.text(element, here, 3000)
        elif kind == "actions":
            action_ids: set[str] = set()
            for n, element in enumerate(self.items(block, "elements", at, 1, 25)):
                here = f"{at}/elements/{n}"
                self.element(element, here, ACTION_ELEMENTS)
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if isinstance(action_id, str) and action_id in action_ids:
                    self.fail(f"duplicate action_id: {action_id}", f"{here}/action_id")
                action_ids.add(str(action_id))
        elif kind == "input":
            self.text(block.get("label"), f"{at}/label", 2000, plain_only=True)
            if "element" not in block:
                self.fail("missing required field: element", at)
            else:
                self.element(block["element"], f"{at}/element", INPUT_ELEMENTS)
            self.text(block.get("hint"), f"{at}/hint", 2000, plain_only=True, required=False)
            self.boolean(block, "optional", at)
            self.boolean(block, "dispatch_action", at)
        elif kind == "image":
            self.string(block, "image_url", at, 3000, required="slack_file" not in block)
            self.string(block, "alt_text", at, 2000, required=True)
            self.text(block.get("title"), f"{at}/title", 2000, plain_only=True, required=False)
        elif kind == "markdown":
            self.string(block, "text", at, 12000, required=True)
        elif kind == "rich_text":
            self.items(block, "elements", at, 1, 100)
        elif kind == "file":
            self.string(block, "external_id", at, 255, required=True)
            self.string(block, "source", at, 255, required=True)
        elif kind == "video":
            for key in ("alt_text", "video_url", "thumbnail_url"):
                self.string(block, key, at, 3000, required=True)
            self.text(block.get("title"), f"{at}/title", 200, plain_only=True)


def message_errors(blocks: list) -> list[str]:
    checker = Checker("message")
    checker.blocks(blocks, "/blocks")
    return checker.errors


def check_message(blocks: list | None) -> None:
    """Raise Slack's invalid_blocks when blocks break a rule."""
    if blocks is None:
        return
    errors = message_errors(blocks)
    if errors:
        raise SlackError("invalid_blocks", errors=errors)


def view_errors(view: dict, kinds: tuple[str, ...] = ("modal", "home")) -> list[str]:
    kind = view.get("type")
    checker = Checker(kind if kind in ("modal", "home") else "modal")
    if kind not in kinds:
        checker.fail("must be a valid enum value", "/view/type")
        return checker.errors
    checker.blocks(view.get("blocks"), "/view/blocks")
    for key in ("callback_id", "external_id"):
        checker.string(view, key, "/view", 255)
    checker.string(view, "private_metadata", "/view", 3000)
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", 24, plain_only=True)
        checker.text(view.get("close"), "/view/close", 24, plain_only=True, required=False)
        has_inputs = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        checker.text(view.get("submit"), "/view/submit", 24, plain_only=True, required=has_inputs)
        checker.boolean(view, "notify_on_close", "/view")
        checker.boolean(view, "clear_on_close", "/view")
    return checker.errors


def check_view(view: dict, kinds: tuple[str, ...] = ("modal", "home")) -> None:
    """Raise Slack's invalid_arguments when a view breaks a rule."""
    errors = view_errors(view, kinds)
    if errors:
        raise SlackError("invalid_arguments", errors=errors)


def with_ids(blocks: list[dict]) -> list[dict]:
    """Slack fills in the block_id and action_id of inputs that have none, so that the
    submission's state.values has keys for them."""
    filled = []
    for block in blocks:
        if block.get("type") == "input":
            block = {**block, "block_id": block.get("block_id") or secrets.token_hex(3)}
            element = block.get("element")
            if isinstance(element, dict) and not element.get("action_id"):
                block["element"] = {**element, "action_id": secrets.token_hex(3)}
        filled.append(block)
    return filled
