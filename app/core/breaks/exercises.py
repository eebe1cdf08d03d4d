"""What to do during a break: the exercises shown in the break window, and which one fits."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.breaks.settings import BreakKind
from app.kernel.i18n import Text


@dataclass(frozen=True)
class Exercise:
    """What to do during a break, shown in the break window."""

    id: str
    title: Text
    steps: tuple[Text, ...]


EYES = Exercise(
    "eyes",
    Text("Rest your eyes", "放松眼睛"),
    (
        Text("Look at something at least 6 metres (20 feet) away.", "看向 6 米(20 英尺)以外的物体。"),
        Text("Blink slowly ten times.", "缓慢眨眼十次。"),
        Text("Keep looking into the distance until the countdown ends.", "保持远眺,直到倒计时结束。"),
    ),
)
NECK = Exercise(
    "neck",
    Text("Neck and shoulders", "颈部与肩部"),
    (
        Text("Stand up and take the headset off.", "站起来,摘下耳机。"),
        Text("Roll your shoulders backwards five times.", "肩膀向后绕环五次。"),
        Text("Tilt your head slowly to each side; hold for 10 seconds.", "头部缓慢向两侧倾斜,各保持 10 秒。"),
        Text("Walk a few steps and look out of a window.", "走动几步,望向窗外。"),
    ),
)
WRISTS = Exercise(
    "wrists",
    Text("Wrists and hands", "手腕与双手"),
    (
        Text("Stand up and let your arms hang loosely.", "站起来,双臂自然下垂。"),
        Text(
            "Stretch your fingers wide, then make a loose fist; ten times.", "张开手指再轻轻握拳,重复十次。"
        ),
        Text("Circle your wrists slowly in both directions.", "双手腕缓慢向两个方向绕环。"),
        Text(
            "Gently bend each hand back with the other; hold 10 seconds.",
            "用一只手轻压另一只手掌向后,保持 10 秒。",
        ),
    ),
)
VOICE = Exercise(
    "voice",
    Text("Rest your voice", "让嗓子休息"),
    (
        Text("Take the headset off and do not talk.", "摘下耳机,不要说话。"),
        Text("Drink some water in small sips.", "小口喝些温水。"),
        Text("Breathe in slowly through the nose, out through the mouth.", "用鼻子缓慢吸气,用嘴呼气。"),
        Text("Relax your jaw and shoulders.", "放松下颌与肩膀。"),
    ),
)
EXERCISES: dict[str, Exercise] = {e.id: e for e in (EYES, NECK, WRISTS, VOICE)}


def choose_exercise(kind: BreakKind, serial: int, talk_share: float) -> Exercise:
    """Pick an exercise suited to the break.

    Micro-breaks are for the eyes.  A rest break after a stretch spent mostly
    on calls rests the voice; otherwise rest breaks alternate between neck and
    shoulders and wrists (``serial`` counts breaks taken today).
    """
    if kind is BreakKind.MICRO:
        return EYES
    if talk_share >= 0.5:
        return VOICE
    return (NECK, WRISTS)[serial % 2]
