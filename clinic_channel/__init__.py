"""The Rasa input channel the gateway talks to: one endpoint for every platform, which tells Rasa
the patient's channel so that responses can vary by channel (`channel: phone` variants)."""
