"""Patient-safety rules that hold on every channel: deferral to a professional, no verdicts."""
