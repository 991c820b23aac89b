"""The toy ecosystem's part of the in-target probe script: standard library only."""

import os


def toy_section(options, deep, problems):
    packages = []
    for folder in options.get("dirs") or []:
        if not os.path.isdir(folder):
            problems.append("no toy folder " + folder)
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".toy") and "-" in name:
                package, version = name[:-4].rsplit("-", 1)
                packages.append({"name": package, "version": version, "location": folder})
    return {"packages": packages}
