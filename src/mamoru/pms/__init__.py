"""The PMS cycle of JIS Q 15001: legal register, risk items, the control catalogue, internal audits with
findings and corrective actions, and the management review."""
