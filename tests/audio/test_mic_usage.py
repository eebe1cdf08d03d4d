"""Who uses the microphone on Windows (``sensors.mic_usage``): the privacy consent store (recorded data)."""

from __future__ import annotations

from sensors.mic_usage import ConsentEntry, consent_entries_from_tree, consent_store_in_use

# A dump of HKCU\...\ConsentStore\microphone while a softphone was in a call:
# Teams (packaged) used it earlier; MicroSIP is recording now; Deskwatch too.
CONSENT_TREE = {
    "MSTeams_8wekyb3d8bbwe": {"Value": "Allow", "LastUsedTimeStart": 133700000000000000,
                              "LastUsedTimeStop": 133700000900000000},
    "NonPackaged": {
        "Value": "Allow",
        "C:#Program Files (x86)#MicroSIP#microsip.exe": {
            "LastUsedTimeStart": 133712345600000000, "LastUsedTimeStop": 0,
        },
        "C:#Program Files#Deskwatch#python.exe": {
            "LastUsedTimeStart": 133712345000000000, "LastUsedTimeStop": 0,
        },
        "C:#Tools#never.exe": {"LastUsedTimeStart": 0, "LastUsedTimeStop": 0},
    },
}  # fmt: skip


def test_windows_consent_store() -> None:
    entries = consent_entries_from_tree(CONSENT_TREE)
    assert len(entries) == 4
    own = r"C:\Program Files\Deskwatch\python.exe"
    assert consent_store_in_use(entries, own) == ["microsip.exe"]
    assert consent_store_in_use(entries) == ["microsip.exe", "python.exe"]
    assert consent_store_in_use([ConsentEntry("x", 5, 6)]) == []
