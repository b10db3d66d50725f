using Cd4ml.Artifacts;

namespace Cd4ml.Training.Scoring;

/// <summary>
/// A trained model as stored by the trainer: manifest.json plus the model.zip it describes. Loading checks the
/// model's SHA-256 against the manifest, so a server never serves bytes other than the ones that were evaluated.
/// </summary>
public sealed class ModelArtifact
{
    private ModelArtifact(ModelManifest manifest, byte[] model)
    {
        Manifest = manifest;
        ModelBytes = model;
    }

    public ModelManifest Manifest { get; }

    public byte[] ModelBytes { get; }

    public string ModelSha256 => Manifest.Artifacts[ModelManifest.ModelFileName].Sha256;

    public static ModelArtifact FromBytes(byte[] manifestJson, byte[] modelZip)
    {
        var manifest = ModelManifest.Parse(manifestJson);
        if (!manifest.Artifacts.TryGetValue(ModelManifest.ModelFileName, out var entry))
        {
            throw new InvalidDataException($"The manifest lists no {ModelManifest.ModelFileName}.");
        }

        var actual = ContentDigest.Sha256Hex(modelZip);
        if (actual != entry.Sha256)
        {
            throw new InvalidDataException($"{ModelManifest.ModelFileName} has sha256 {actual}, but the manifest records {entry.Sha256}.");
        }

        return new ModelArtifact(manifest, modelZip);
    }

    /// <summary>Reads manifest.json and model.zip under the output prefix of a training run.</summary>
    public static async Task<ModelArtifact> LoadAsync(ArtifactStore store, S3Location prefix, CancellationToken cancellationToken = default)
    {
        var manifest = await store.GetBytesAsync(prefix.AsPrefix().Combine(ModelManifest.FileName), cancellationToken);
        var model = await store.GetBytesAsync(prefix.AsPrefix().Combine(ModelManifest.ModelFileName), cancellationToken);
        return FromBytes(manifest, model);
    }

    /// <summary>Reads manifest.json and model.zip from a local directory (e.g. one the server downloaded to).</summary>
    public static async Task<ModelArtifact> LoadDirectoryAsync(string directory, CancellationToken cancellationToken = default) =>
        FromBytes(await File.ReadAllBytesAsync(Path.Combine(directory, ModelManifest.FileName), cancellationToken),
            await File.ReadAllBytesAsync(Path.Combine(directory, ModelManifest.ModelFileName), cancellationToken));
}
