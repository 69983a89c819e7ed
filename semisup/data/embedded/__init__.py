"""The embedded benchmark: General-MIDI SoundFont samples × music21 scores, rendered to audio.

``build`` (entry point, ``python -m semisup.data.embedded.build``) plans the tasks
(``tasks``) from the corpus (``corpus``), renders them with the SoundFont (``render``,
``gm``) and writes ``meta.json`` + one ``manifest.csv`` per task; ``explore`` holds the
helpers of notebook 01. The loader of a built benchmark is ``embedded:`` in
:mod:`semisup.data.datasets`.
"""
