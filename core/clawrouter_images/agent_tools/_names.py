"""The tools' names, in a module of their own so that an adapter can name them at import
without loading the contract behind them."""

GENERATE_TOOL_NAME = "generate_image"
EDIT_TOOL_NAME = "edit_image"
