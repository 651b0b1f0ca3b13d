"""The Streamlit app: calls flows and components, holds no logic of its own."""
