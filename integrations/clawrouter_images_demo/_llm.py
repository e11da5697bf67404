"""``--llm PROVIDER[:MODEL]``: a real chat model for the demo, from packages the user installs.

Nothing here is a dependency of this package: each provider's LangChain and LlamaIndex
packages are imported only when asked for, and a missing package or API key is one
clear line (``LLMSetupError``) before anything runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass
from typing import Any


class LLMSetupError(Exception):
    """The chat model asked for cannot be used: unknown provider, missing package or key."""


@dataclass(frozen=True)
class Provider:
    """How to reach one chat-model provider from LangChain and from LlamaIndex."""

    name: str
    default_model: str
    key_env: str | None
    langchain_provider: str
    langchain_module: str
    langchain_package: str
    llamaindex_module: str
    llamaindex_class: str
    llamaindex_package: str


PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider(
            "openai",
            "gpt-4.1-mini",
            "OPENAI_API_KEY",
            "openai",
            "langchain_openai",
            "langchain-openai",
            "llama_index.llms.openai",
            "OpenAI",
            "llama-index-llms-openai",
        ),
        Provider(
            "anthropic",
            "claude-sonnet-4-5",
            "ANTHROPIC_API_KEY",
            "anthropic",
            "langchain_anthropic",
            "langchain-anthropic",
            "llama_index.llms.anthropic",
            "Anthropic",
            "llama-index-llms-anthropic",
        ),
        Provider(
            "google",
            "gemini-2.5-flash",
            "GOOGLE_API_KEY",
            "google_genai",
            "langchain_google_genai",
            "langchain-google-genai",
            "llama_index.llms.google_genai",
            "GoogleGenAI",
            "llama-index-llms-google-genai",
        ),
        Provider(
            "mistralai",
            "mistral-large-latest",
            "MISTRAL_API_KEY",
            "mistralai",
            "langchain_mistralai",
            "langchain-mistralai",
            "llama_index.llms.mistralai",
            "MistralAI",
            "llama-index-llms-mistralai",
        ),
        Provider(
            "groq",
            "llama-3.3-70b-versatile",
            "GROQ_API_KEY",
            "groq",
            "langchain_groq",
            "langchain-groq",
            "llama_index.llms.groq",
            "Groq",
            "llama-index-llms-groq",
        ),
        # A local model: no key, only a running Ollama.
        Provider(
            "ollama",
            "llama3.1",
            None,
            "ollama",
            "langchain_ollama",
            "langchain-ollama",
            "llama_index.llms.ollama",
            "Ollama",
            "llama-index-llms-ollama",
        ),
    )
}


@dataclass(frozen=True)
class LLMChoice:
    """A provider and model, checked to be usable for the frameworks that will run."""

    provider: Provider
    model: str

    @property
    def label(self) -> str:
        return f"{self.provider.name}:{self.model}"

    def build(self, framework: str) -> Any:
        """The chat model for ``framework`` ("langchain" or "llamaindex"), or ``LLMSetupError``."""
        try:
            return self.langchain_model() if framework == "langchain" else self.llamaindex_llm()
        except Exception as err:  # each provider fails in its own way; all mean "cannot use it"
            raise LLMSetupError(
                f"--llm {self.label}: cannot make the {framework} chat model: {err}"
            ) from err

    def langchain_model(self) -> Any:
        from langchain.chat_models import init_chat_model

        return init_chat_model(self.model, model_provider=self.provider.langchain_provider)

    def llamaindex_llm(self) -> Any:
        module = importlib.import_module(self.provider.llamaindex_module)
        llm_class = getattr(module, self.provider.llamaindex_class)
        return llm_class(model=self.model)


def choose_llm(spec: str, frameworks: tuple[str, ...]) -> LLMChoice:
    """Parse ``PROVIDER[:MODEL]`` and check its packages and key, or raise ``LLMSetupError``."""
    name, _, model = spec.strip().partition(":")
    provider = PROVIDERS.get(name.lower())
    if provider is None:
        raise LLMSetupError(
            f"unknown --llm provider {name!r}; choose one of: {', '.join(PROVIDERS)} "
            "(optionally PROVIDER:MODEL, e.g. openai:gpt-4.1)"
        )
    wanted = []
    if "langchain" in frameworks:
        wanted.append((provider.langchain_module, provider.langchain_package))
    if "llamaindex" in frameworks:
        wanted.append((provider.llamaindex_module, provider.llamaindex_package))
    missing = [package for module, package in wanted if not _installed(module)]
    if missing:
        raise LLMSetupError(
            f"--llm {provider.name} needs {' and '.join(missing)}: pip install {' '.join(missing)}"
        )
    if provider.key_env and not os.environ.get(provider.key_env, "").strip():
        raise LLMSetupError(
            f"--llm {provider.name} needs an API key: set {provider.key_env} in the environment"
        )
    return LLMChoice(provider, model.strip() or provider.default_model)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package (llama_index.llms) is missing
        return False
