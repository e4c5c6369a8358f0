"""The training and evaluation photos: where they come from, their licences, and the split.

Only licence-clean natural photographs from the package registries: the photos bundled with
scikit-image (PyPI) and five of Debian's wallpaper packages, pinned by version and checked by
SHA-256. The standard super-resolution benchmark sets are deliberately not used. The photos of
the two packages added later (LXQt's and KDE Plasma's) are never held out, so the held-out set,
and every figure measured on it, stays what it was.

Every photo becomes an 8-bit RGB "high-resolution" original. The wallpapers (2 to 24 megapixels,
JPEG-compressed, some noisy) are first reduced so that their long side is ``WALLPAPER_SIDE``:
that averages compression blocks and sensor noise away, so the network learns to restore
detail, not to reproduce artefacts. Low-resolution inputs are made from the originals exactly
as the benchmark makes them: Pillow's bicubic downscale of the 8-bit image.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

WALLPAPER_SIDE = 1536
# The held-out wallpapers: every fifth of the first three packages' photos in name order,
# chosen by rule before any training.
HOLD_OUT_EVERY = 5
# scikit-image's four classics are held out too (they are also the benchmark's quick set).
HELD_OUT_SKIMAGE = ("astronaut", "camera", "coffee", "chelsea")
TRAIN_SKIMAGE = (
    "rocket",
    "coins",
    "moon",
    "clock",
    "brick",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)
SKIMAGE_LICENCE = "scikit-image bundled data: public domain or CC0/CC-BY, see skimage/data/README"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str
    licence_note: str


PACKAGES = {
    "lomiri-wallpapers-16.04": Package(
        "lomiri-wallpapers-16.04",
        "20.04.0-2",
        "a99ff6a3bfe451e4cc0682ecb3cc82e71740626d59e4845ae34a0a0e45421eab",
        "per-file CC-BY-4.0, CC-BY-SA-4.0, CC-BY-SA-3.0 or CC0-1.0 (debian/copyright)",
    ),
    "lomiri-wallpapers-20.04": Package(
        "lomiri-wallpapers-20.04",
        "20.04.0-2",
        "d44e89b8473aafe64a5b678f014862dc31335aaaf18665c544d985d854f1a709",
        "CC-BY-SA-3.0 (debian/copyright)",
    ),
    "mate-backgrounds": Package(
        "mate-backgrounds",
        "1.26.0-1",
        "7bf4c2209f34b4f61ba6d24c8b58c28b361e82e4b943aae6d42c030169af9e04",
        "GPL-2+ (debian/copyright)",
    ),
    "lxqt-themes": Package(
        "lxqt-themes",
        "1.2.0-1",
        "d518df36b515b09d36cb00b12645dd8ce170bb82bb0966297741905ce3edc8e1",
        "LGPL-2.1+ (debian/copyright; upstream's wallpapers/License says CC-BY-SA-3.0)",
    ),
    "plasma-workspace-wallpapers": Package(
        "plasma-workspace-wallpapers",
        "4:5.27.5-2",
        "32cd18b71c8c938a18b3b351f217c02ac590e323caa3cf322fbb875ce8892f8b",
        "LGPL-3 (each wallpaper's metadata.json)",
    ),
}


@dataclass(frozen=True)
class Wallpaper:
    package: str
    path: str  # inside the package
    author: str
    licence: str
    # Added after the split was fixed and never held out, so the held-out set stays comparable;
    # a model may train without them (``TrainConfig.added_photos``).
    added_later: bool = False
    # Plasma keeps every wallpaper as <title>/contents/images/<size>.jpg: the title names it.
    title: str = ""

    @property
    def name(self) -> str:
        return self.title or Path(self.path).stem

    @property
    def file_name(self) -> str:
        """Unique name of the extracted file in the cache."""
        return self.name + Path(self.path).suffix


_LOMIRI = "usr/share/backgrounds/"
_MATE = "usr/share/backgrounds/mate/nature/"
# Photographs only; the packages' abstract renders and logos are left out.
_PLASMA_PHOTOS = (  # (title, author) as in each wallpaper's metadata.json; all LGPL-3
    ("BytheWater", "Maciej Wiklo"),
    ("ColdRipple", "Risto Saukonpää"),
    ("ColorfulCups", "Dmitri Popov"),
    ("DarkestHour", "Risto Saukonpää"),
    ("EveningGlow", "Ian Hex"),
    ("FallenLeaf", "Martin Klapetek"),
    ("Grey", "Sigi Sagi"),
    ("Kite", "Risto Saukonpää"),
    ("OneStandsOut", "Risto Saukonpää"),
    ("Path", "Risto Saukonpää"),
    ("summer_1am", "Risto Saukonpää"),
)
_LXQT_PHOTOS = (  # (file, author) as in the package's wallpapers/License credits
    ("Butterfly-Kenneth-Wimer.jpg", "Kenneth Wimer"),
    ("Valendas.png", "LXQt team"),
    ("after-the-rain.jpg", "stefonarch"),
    ("appleflower.png", "stefonarch"),
    ("beam.png", "stefonarch"),
    ("butterfly.png", "stefonarch"),
    ("cloud.png", "LXQt team"),
    ("drop.png", "stefonarch"),
    ("flowers.png", "stefonarch"),
    ("fog.jpg", "stefonarch"),
    ("this-is-not-windows.jpg", "stefonarch"),
)


def _plasma(title: str, author: str) -> Wallpaper:
    path = f"usr/share/wallpapers/{title}/contents/images/2560x1600.jpg"
    return Wallpaper(
        "plasma-workspace-wallpapers", path, author, "LGPL-3", added_later=True, title=title
    )


def _lxqt(file_name: str, author: str) -> Wallpaper:
    path = f"usr/share/lxqt/wallpapers/{file_name}"
    # debian/copyright covers them with the package's LGPL-2.1+; upstream's credits file says
    # CC-BY-SA-3.0. Both are listed, so attribution and share-alike stay visible.
    return Wallpaper("lxqt-themes", path, author, "LGPL-2.1+ / CC-BY-SA-3.0", added_later=True)


# The natural photographs of these packages (their abstract renders and patterns are left out).
WALLPAPERS = (
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "Bridge_by_Sander_Klootwijk.jpg",
              "Sander Klootwijk", "CC-BY-SA-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "Dragonfly_by_Bolly.jpg",
              '"Bolly"', "CC-BY-SA-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "Picture_0B_by_freespace.jpg",
              'Trevor "Freespace"', "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "Picture_1A_by_freespace.jpg",
              'Trevor "Freespace"', "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "Wine_by_Jakkub_Mede.jpg",
              "Jakub Mede", "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "aitzgorri_by_Aitzol_Berasategi.jpg",
              "Aitzol Berasategi", "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "free_by_Peter_Nerlich.jpg",
              "Peter Nerlich", "CC-BY-SA-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "friends_by_Aitzol_Berasategi.jpg",
              "Aitzol Berasategi", "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "greentock_by_Peter_Nerlich.jpg",
              "Peter Nerlich", "CC-BY-SA-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "life_by_Aitzol_Berasategi.jpg",
              "Aitzol Berasategi", "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "picosdeeuropa_by_Aitzol_Berasategi.jpg",
              "Aitzol Berasategi", "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "seeding_by_Clements_Engelhardt.jpg",
              "Clemens Engelhardt", "CC0-1.0"),
    Wallpaper("lomiri-wallpapers-16.04", _LOMIRI + "sunset_by_Aitzol_Berasategi.jpg",
              "Aitzol Berasategi", "CC-BY-4.0"),
    Wallpaper("lomiri-wallpapers-20.04", _LOMIRI + "Kleiber_by_Lukas_Baubkus.jpg",
              "Lukas Baubkus", "CC-BY-SA-3.0"),
    Wallpaper("mate-backgrounds", _MATE + "Aqua.jpg", "Charles Barbin", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "Blinds.jpg",
              "Lennart Poettering, Andrea Cimitan", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "Dune.jpg", "Marco Cogoni, Hylke Bons", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "FreshFlower.jpg", "Jens Ansorg", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "Garden.jpg", "Charles Barbin", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "GreenMeadow.jpg",
              "Timothy Schellhase, Lapo Calamandrei", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "LadyBird.jpg", "Charles Barbin", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "RainDrops.jpg", '"blackcombwhistler07"', "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "Storm.jpg", "Sergey Nazarov", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "TwoWings.jpg",
              "Charles Barbin, Hylke Bons", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "Wood.jpg", "Jean-François Fortin Tam", "GPL-2+"),
    Wallpaper("mate-backgrounds", _MATE + "YellowFlower.jpg", "Charles Barbin", "GPL-2+"),
    *(_plasma(title, author) for title, author in _PLASMA_PHOTOS),
    *(_lxqt(file_name, author) for file_name, author in _LXQT_PHOTOS),
)  # fmt: skip


def held_out_wallpapers() -> tuple[Wallpaper, ...]:
    ordered = sorted((w for w in WALLPAPERS if not w.added_later), key=lambda w: w.name.lower())
    return tuple(ordered[::HOLD_OUT_EVERY])


class DataUnavailable(RuntimeError):
    """The photos cannot be fetched here (no apt-get, no registry, or a changed package)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_package(package: Package, cache: Path) -> Path:
    """The package's .deb in ``cache``, downloaded with apt-get (signed index) if missing."""
    cache.mkdir(parents=True, exist_ok=True)
    for existing in cache.glob(f"{package.name}_*.deb"):
        if _sha256(existing) == package.sha256:
            return existing
    if shutil.which("apt-get") is None:
        raise DataUnavailable("apt-get is not available to fetch Debian's wallpaper packages")
    spec = f"{package.name}={package.version}"
    try:
        # The sandboxed _apt user may not write here; apt then downloads as root with a warning.
        subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["apt-get", "download", "-q", spec],  # noqa: S607
            cwd=cache,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise DataUnavailable(f"apt-get download {spec} failed: {detail.strip()}") from exc
    for downloaded in cache.glob(f"{package.name}_*.deb"):
        if _sha256(downloaded) == package.sha256:
            return downloaded
    raise DataUnavailable(f"{spec} does not have the expected SHA-256 {package.sha256}")


def _extract(deb: Path, wallpapers: Sequence[Wallpaper], destination: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)  # noqa: S603, S607
        for wallpaper in wallpapers:
            shutil.copyfile(Path(tmp) / wallpaper.path, destination / wallpaper.file_name)


def wallpaper_originals(
    cache: Path, wallpapers: Sequence[Wallpaper] = WALLPAPERS
) -> dict[str, np.ndarray]:
    """name -> RGB uint8 original (long side ``WALLPAPER_SIDE``), fetching what is missing.

    Only the packages ``wallpapers`` come from are fetched (the benchmark's come from two).
    """
    raw = cache / "wallpapers"
    raw.mkdir(parents=True, exist_ok=True)
    for name, package in PACKAGES.items():
        members = [w for w in wallpapers if w.package == name]
        if all((raw / w.file_name).exists() for w in members):
            continue
        _extract(_fetch_package(package, cache / "debs"), members, raw)
    originals = {}
    for wallpaper in wallpapers:
        with Image.open(raw / wallpaper.file_name) as image:
            originals[wallpaper.name] = reduce_to_side(image.convert("RGB"), WALLPAPER_SIDE)
    return originals


def reduce_to_side(image: Image.Image, side: int) -> np.ndarray:
    """Shrink so the long side is ``side`` (Lanczos, antialiased), as RGB uint8."""
    factor = side / max(image.size)
    if factor < 1:
        size = (round(image.width * factor), round(image.height * factor))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def skimage_originals(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    from skimage import data  # the train/benchmark extras install it

    photos = {}
    for name in names:
        array = np.asarray(getattr(data, name)())
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        photos[name] = np.ascontiguousarray(array[..., :3].astype(np.uint8))
    return photos


@dataclass(frozen=True)
class PhotoSet:
    train: dict[str, np.ndarray]
    held_out: dict[str, np.ndarray]

    def training(self, *, with_added: bool = True) -> dict[str, np.ndarray]:
        """The training photos, without the ones added later unless ``with_added``."""
        if with_added:
            return self.train
        added = {w.name for w in WALLPAPERS if w.added_later}
        return {name: photo for name, photo in self.train.items() if name not in added}


def load_photos(cache: Path) -> PhotoSet:
    """All photos, split; raises :class:`DataUnavailable` when the wallpapers cannot be had."""
    wallpapers = wallpaper_originals(cache)
    held_names = {w.name for w in held_out_wallpapers()}
    train = skimage_originals(TRAIN_SKIMAGE)
    held_out = skimage_originals(HELD_OUT_SKIMAGE)
    for name, photo in wallpapers.items():
        (held_out if name in held_names else train)[name] = photo
    return PhotoSet(train=train, held_out=held_out)
