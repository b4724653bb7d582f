"""Application-form templates (申請書) and their engine: model, pre-fill, validation, fees.
Qt-free."""
