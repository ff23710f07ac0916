"""The critical-alarm sound: a tone the user can turn down, mute for a while, and test.

QApplication.beep() has no volume and on many desktops no sound at all; a short two-tone
WAV played by QSoundEffect has both. Where Qt Multimedia has no audio device (a server, a
test run offscreen) the beep is the fallback, so the alarm is never silent by accident.
"""

from __future__ import annotations

import contextlib
import logging
import math
import struct
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

SETTINGS_VOLUME = "alarms/volume"  # 0–100
SETTINGS_SOUND = "alarms/sound"  # "true" / "false"
MUTE_CHOICES_MIN = (5, 15, 60)
RATE = 22_050


def _tone_file() -> Path:
    """Two short tones (880 Hz, 660 Hz), written once per run into the temp folder."""
    path = Path(tempfile.gettempdir()) / "sealdesk-alarm-tone.wav"
    if path.exists():
        return path
    frames = bytearray()
    for freq in (880.0, 660.0, 880.0):
        for i in range(int(RATE * 0.18)):
            fade = min(1.0, i / 400, (RATE * 0.18 - i) / 400)
            frames += struct.pack("<h", int(12000 * fade * math.sin(2 * math.pi * freq * i / RATE)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


class AlarmSound(QObject):
    sig_mute_changed = Signal(float)
    """Muted until this epoch second (0: not muted)."""

    def __init__(self, settings, clock: Callable[[], float] = time.time,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.clock = clock
        self.muted_until = 0.0
        self.played = 0  # how many times it sounded (the tests and the status read it)
        self._effect = None

    # -- settings --------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return str(self.settings.value(SETTINGS_SOUND, "true")).lower() != "false"

    @property
    def volume(self) -> int:
        try:
            return max(0, min(100, int(self.settings.value(SETTINGS_VOLUME, 80))))
        except (TypeError, ValueError):
            return 80

    def set_volume(self, volume: int) -> None:
        self.settings.setValue(SETTINGS_VOLUME, max(0, min(100, int(volume))))

    # -- muting ----------------------------------------------------------------------------

    def mute_for(self, minutes: float) -> None:
        self.muted_until = self.clock() + minutes * 60 if minutes > 0 else 0.0
        self.sig_mute_changed.emit(self.muted_until)

    def unmute(self) -> None:
        self.mute_for(0)

    def mute_left_s(self) -> float:
        left = self.muted_until - self.clock()
        if left <= 0 and self.muted_until:
            self.muted_until = 0.0
            self.sig_mute_changed.emit(0.0)
        return max(0.0, left)

    # -- playing ---------------------------------------------------------------------------

    def alarm(self) -> bool:
        """Sound for a critical alarm, unless off or muted; True when it sounded."""
        if not self.enabled or self.mute_left_s() > 0:
            return False
        self.play()
        return True

    def play(self) -> None:
        """Sound now, at the set volume (Settings' "Test sound" too)."""
        self.played += 1
        effect = self._sound_effect()
        if effect is None:
            QApplication.beep()
            return
        effect.setVolume(self.volume / 100)
        effect.play()

    def _sound_effect(self):
        if self._effect is False:
            return None
        if self._effect is None:
            if QGuiApplication.platformName() in ("offscreen", "minimal"):
                self._effect = False  # no screen, no speakers: Qt Multimedia would only
                return None  # start its audio backend for nothing
            try:
                from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

                if not QMediaDevices.defaultAudioOutput().id():
                    raise RuntimeError("no audio output")
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(_tone_file())))
                self._effect = effect
            except Exception as exc:  # no Qt Multimedia or no device: beep instead
                log.info("alarm sound falls back to the system beep: %s", exc)
                self._effect = False
                return None
        return self._effect

    def close(self) -> None:
        if self._effect:
            with contextlib.suppress(RuntimeError):
                self._effect.stop()


def mute_text(seconds_left: float) -> str:
    """"🔇 muted — 12:34 left" (empty when not muted)."""
    if seconds_left <= 0:
        return ""
    minutes, seconds = divmod(math.ceil(seconds_left), 60)
    return f"🔇 muted — {minutes}:{seconds:02d} left"
