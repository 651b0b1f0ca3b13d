# The Streamlit web app (clipflows ui). Build from the repository root:
#   docker build -f deploy/docker/Dockerfile.app -t clipflows-app .
FROM clipflows-worker
RUN pip install --no-cache-dir -e '.[ui,audio,music,deploy]'
EXPOSE 8501
CMD ["clipflows", "ui", "--host", "0.0.0.0", "--port", "8501"]
