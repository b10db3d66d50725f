# One image, one CLI: `cd4ml operator`, `cd4ml train`, `cd4ml serve`, `cd4ml crds`, ...
# The operator launches training Jobs and model servers from this same image by default.
#
# Base images are build arguments (defaults: the official .NET images), so mirrors or locally built bases work
# without editing this file. Behind a TLS-inspecting proxy, give NuGet the proxy's CA as a BuildKit secret:
#   docker build --secret id=extra-ca,src=/path/to/ca.pem -t cd4ml .      (`make image EXTRA_CA=/path/to/ca.pem`)
# The certificate is added to the system bundle for the restore step only and never stored in a layer.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore first so the package layer is cached across source changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY operator/Cd4ml.Api/Cd4ml.Api.csproj operator/Cd4ml.Api/
COPY operator/Cd4ml.Runtime.Entities/Cd4ml.Runtime.Entities.csproj operator/Cd4ml.Runtime.Entities/
COPY operator/Cd4ml.Runtime/Cd4ml.Runtime.csproj operator/Cd4ml.Runtime/
COPY operator/Cd4ml.Artifacts/Cd4ml.Artifacts.csproj operator/Cd4ml.Artifacts/
COPY operator/Cd4ml.Training.Contract/Cd4ml.Training.Contract.csproj operator/Cd4ml.Training.Contract/
COPY operator/Cd4ml.Training/Cd4ml.Training.csproj operator/Cd4ml.Training/
COPY operator/Cd4ml.Serving/Cd4ml.Serving.csproj operator/Cd4ml.Serving/
COPY operator/Cd4ml.Operator/Cd4ml.Operator.csproj operator/Cd4ml.Operator/
COPY operator/Cd4ml.LocalCluster/Cd4ml.LocalCluster.csproj operator/Cd4ml.LocalCluster/
COPY operator/Cd4ml.Kubectl/Cd4ml.Kubectl.csproj operator/Cd4ml.Kubectl/
COPY operator/Cd4ml.Cli/Cd4ml.Cli.csproj operator/Cd4ml.Cli/
# ReadyToRun: a training Job or model server is a fresh process, so precompiled code saves most of the JIT work
# (cold `cd4ml train` on 100k rows: about 30% less CPU time). Framework-dependent, for the platform being built.
ARG TARGETARCH
RUN case "${TARGETARCH:-amd64}" in arm64) echo linux-arm64 ;; *) echo linux-x64 ;; esac > /tmp/rid
RUN --mount=type=secret,id=extra-ca \
    if [ -s /run/secrets/extra-ca ]; then \
      cat /etc/ssl/certs/ca-certificates.crt /run/secrets/extra-ca > /tmp/ca-bundle.pem && export SSL_CERT_FILE=/tmp/ca-bundle.pem; \
    fi; \
    RID="$(cat /tmp/rid)" && dotnet restore operator/Cd4ml.Cli/Cd4ml.Cli.csproj -r "$RID" -p:PublishReadyToRun=true \
    && rm -f /tmp/ca-bundle.pem
COPY operator/ operator/
# Keep in step with `make publish`.
RUN RID="$(cat /tmp/rid)" && dotnet publish operator/Cd4ml.Cli -c Release -r "$RID" --self-contained false -p:PublishReadyToRun=true --no-restore -o /out

FROM ${RUNTIME_IMAGE} AS runtime
# LightGBM's native library needs OpenMP.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out ./
USER 65532:65532
ENV DOTNET_gcServer=0 ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "/app/cd4ml.dll"]
CMD ["--help"]
