# The Streamlit web app (clipflows ui): the worker image (deploy/install.sh installed the `ui`
# extra there too) with another command. Build the worker first, then from the repository root:
#   docker build -f deploy/docker/Dockerfile.app -t clipflows-app .
FROM clipflows-worker
EXPOSE 8501
CMD ["clipflows", "ui", "--host", "0.0.0.0", "--port", "8501"]
