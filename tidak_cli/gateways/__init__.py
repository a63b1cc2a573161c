"""The gateway registry: one lookup, used by the CLI, the sandbox, demo, doctor and the library API alike.

A gateway family is one package here (`recipe.py`, `emulator.py`, optionally `forensics.py`) whose
`__init__.py` declares its FAMILY, plus one line in FAMILIES. A family's package is imported when one of
its providers is first looked up, so that a command about one gateway loads only that gateway; its
emulator and mistake search are imported only when the sandbox or `sign --compare` asks for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import UsageError
from .base import CliOption, Forensics, Provenance, Provider, SignedRequest, Token

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from ..profiles import Profile
    from .emulation import Gateway
    from .notification import NotificationRecipe

__all__ = [
    "FAMILIES",
    "GROUPS",
    "PROVIDERS",
    "SEED",
    "CliOption",
    "Family",
    "Forensics",
    "Provenance",
    "Provider",
    "SignedRequest",
    "Token",
    "emulator_for",
    "family_of",
    "forensics_for",
    "grouped",
    "lookup",
    "notification_for",
    "provenance",
    "quirks",
]

P = TypeVar("P", bound=Provider)


@dataclass(frozen=True)
class Family(Generic[P]):
    """A gateway family as the rest of paytoken sees it: its providers, its emulator, its optional parts."""

    providers: tuple[P, ...]
    # The sandbox's side of the recipe, for one of the family's providers.
    emulator: Callable[[P], Gateway]
    # The mistake search behind `sign --compare` and `--replay`; None: the family has none.
    forensics: Callable[[P], Forensics] | None = None
    # For a family that signs with the profile's RSA key pair: how to load the private key. doctor checks
    # the pair and demo makes one; the profile then holds private_key_file and the sandbox the public half.
    private_key: Callable[[P, Profile], RSAPrivateKey] | None = None
    # What the gateway sends to the merchant's webhook, for `verify` and `notify`; None (or None for a
    # provider): no notification recipe.
    notification: Callable[[P], NotificationRecipe | None] | None = None


# Family package (relative to this one, or an absolute module name) -> its provider names, in the order
# `providers` lists them. Each package's FAMILY declares the providers themselves.
FAMILIES: dict[str, tuple[str, ...]] = {
    ".snap": (
        *("nicepay", "finpay-snap", "doku-snap", "snap"),
        # SNAP presets: data in snap/recipe.py, grouped by their Provenance (banks, then e-wallets and aggregators).
        *("bri", "bni", "mandiri", "bca"),
        *("dana", "midtrans", "ifortepay", "paydia", "paycloud", "durianpay"),
    ),
    ".doku": ("doku",),
    ".finpay_widget": ("finpay-widget",),
    ".faspay_sendme": ("faspay-sendme",),
}


def family_of(name: str) -> Family[Any]:
    """The family that defines the provider called name (KeyError when none does)."""
    package = next((package for package, names in FAMILIES.items() if name in names), None)
    if package is None:
        raise KeyError(name)
    family: Family[Any] = importlib.import_module(package, __name__).FAMILY
    return family


class _Registry(Mapping[str, Provider]):
    """Provider names in registration order; each family's package is loaded on first access."""

    def __getitem__(self, name: str) -> Provider:
        provider: Provider = next(provider for provider in family_of(name).providers if provider.name == name)
        return provider

    def __iter__(self) -> Iterator[str]:
        return (name for names in FAMILIES.values() for name in names)

    def __len__(self) -> int:
        return sum(len(names) for names in FAMILIES.values())

    def __contains__(self, name: object) -> bool:
        return any(name in names for names in FAMILIES.values())


PROVIDERS: Mapping[str, Provider] = _Registry()


def lookup(name: str) -> Provider:
    """Return the provider called name (in any letter case), or fail listing the known ones."""
    if name.lower() in PROVIDERS:
        return PROVIDERS[name.lower()]
    if name not in PROVIDERS:
        import difflib

        close = difflib.get_close_matches(name, list(PROVIDERS), n=1)
        raise UsageError(
            f"unknown provider {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
            hint=f"known providers: {', '.join(PROVIDERS)}",
        )
    return PROVIDERS[name]


def emulator_for(provider: Provider) -> Gateway:
    """Return the sandbox gateway that verifies provider's recipe."""
    if provider.name not in PROVIDERS:
        raise LookupError(f"the sandbox has no gateway for {provider.name}")
    return family_of(provider.name).emulator(provider)


def forensics_for(provider: Provider) -> Forensics:
    """Return provider's mistake search, or a UsageError saying plainly that it has none."""
    make = family_of(provider.name).forensics if provider.name in PROVIDERS else None
    if make is None:
        raise UsageError(
            f"{provider.name} has no mistake search: --compare and --replay are not available for it",
            hint=f"`paytoken sign {provider.name}` shows every byte it signs: compare them with yours",
        )
    return make(provider)


def notification_for(provider: Provider) -> NotificationRecipe:
    """Return provider's notification recipe, or a UsageError saying plainly that it has none."""
    make = family_of(provider.name).notification if provider.name in PROVIDERS else None
    recipe = make(provider) if make is not None else None
    if recipe is None:
        having = [name for name in PROVIDERS if (found := family_of(name).notification) and found(PROVIDERS[name])]
        kin = [name for name in having if provider.name in PROVIDERS and family_of(name) is family_of(provider.name)]
        hint = f"providers with one: {', '.join(having)}"
        if kin:
            # A SNAP bank without a recipe of its own follows the standard one, which the generic provider checks.
            hint = (
                f"if its notifications follow the family's standard, check them as {kin[-1]} (a [{kin[-1]}.NAME] "
                f"profile with gateway_public_key_file); {hint}"
            )
        raise UsageError(
            f"{provider.name} has no notification recipe: verify and notify are not available for it", hint=hint
        )
    return recipe


# The seed gateways' facts come from the project's specification, pinned by its test vectors.
SEED = Provenance()

# Provenance groups, in the order listings show them, with their headings.
GROUPS: Mapping[str, str] = {
    "seed": "seed gateways",
    "bank": "SNAP banks",
    "wallet": "SNAP e-wallets and aggregators",
}


def grouped() -> list[Provider]:
    """Every provider, the seed gateways first, then the SNAP banks, then e-wallets and aggregators."""
    return sorted(PROVIDERS.values(), key=lambda provider: list(GROUPS).index(provenance(provider).group))


def provenance(provider: Provider) -> Provenance:
    """Where provider's facts come from (a provider that does not say is one of the seed gateways)."""
    found = getattr(provider, "provenance", SEED)
    return found if isinstance(found, Provenance) else SEED


def quirks(provider: Provider) -> tuple[str, ...]:
    """How provider departs from its family's common recipe, one line each (none when it says nothing)."""
    found = getattr(provider, "quirks", ())
    return tuple(str(line) for line in found)
