using System.CommandLine;
using Cd4ml.Api;
using Cd4ml.Api.Schema;

namespace Cd4ml.Cli;

/// <summary>`cd4ml crds`: writes (or checks) the CRD YAML and the API reference page generated from the API types.</summary>
internal static class CrdsCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Folder to write one YAML file per CRD into",
            DefaultValueFactory = _ => new DirectoryInfo("crds"),
        };
        var reference = new Option<FileInfo?>("--reference")
        {
            Description = "Also write the API reference page (Markdown) to this file, e.g. docs/api-reference.md",
        };
        var check = new Option<bool>("--check")
        {
            Description = "Write nothing; exit 1 when the folder (or the reference page) differs from what the types generate",
        };
        var command = new Command("crds", "Generate the CustomResourceDefinitions from the C# API types") { output, reference, check };
        command.SetAction(parse => Run(parse.GetValue(output)!, parse.GetValue(reference), parse.GetValue(check)));
        return command;
    }

    private static int Run(DirectoryInfo folder, FileInfo? reference, bool checkOnly)
    {
        var files = CrdGenerator.GenerateFiles(ApiKinds.All)
            .ToDictionary(f => Path.Combine(folder.FullName, f.Key), f => f.Value);
        if (reference is not null)
        {
            files[reference.FullName] = ApiReference.Markdown(ApiKinds.All);
        }

        if (checkOnly)
        {
            var stale = files.Where(f => !File.Exists(f.Key) || File.ReadAllText(f.Key) != f.Value).Select(f => f.Key).ToList();
            foreach (var path in stale)
            {
                Console.Error.WriteLine($"{path} is stale: run `make crds`");
            }

            return stale.Count == 0 ? 0 : 1;
        }

        foreach (var (path, text) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
            Console.WriteLine($"wrote {Path.GetRelativePath(Environment.CurrentDirectory, path)}");
        }

        return 0;
    }
}
