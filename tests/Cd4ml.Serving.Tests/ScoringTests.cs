using System.Buffers;
using System.Text;
using System.Text.Json;
using Cd4ml.Training;
using Cd4ml.Training.Scoring;

namespace Cd4ml.Serving.Tests;

/// <summary>The request path below HTTP: reading a body into the model's input, scoring it, writing the answer.</summary>
public sealed class ScoringTests
{
    [Test]
    public async Task Read_Batch_IgnoresOtherTopLevelFields_AndFieldsTheModelDoesNotUse_EvenNested()
    {
        var model = await ServingHarness.ClassifierAsync(MlTask.BinaryClassification);

        var input = PredictRequest.Read(Body("""
            {"note": {"x": 1}, "instances": [{"x1": 0.95, "x2": 0.9, "color": "red", "extra": [1, 2]}, {"x1": "0.05", "x2": 0.1, "color": "purple"}]}
            """), model);
        var predictions = model.Score(input);

        Assert.That(predictions.Select(p => p.PredictedLabel), Is.EqualTo(new[] { "true", "false" }));
    }

    [TestCase("""{"instances": []}""", "instances", null, "1 to 10000 rows")]
    [TestCase("""{"instances": [{"x1": 1, "x2": 1, "color": "red"}, 7]}""", "instances", 1, "must be a JSON object")]
    [TestCase("""{"x1": 1, "x2": {"a": 1}, "color": "red"}""", "x2", 0, "must be a string, number or boolean; got Object")]
    [TestCase("""{"x1": true, "x2": 1, "color": "red"}""", "x1", 0, "must be a Number; got 'true'")]
    [TestCase("""{"x1": 1, "color": "red"}""", "x2", 0, "'x2' (Number) is required")]
    [TestCase("""{"x1": 1, "x2": 1, "color": "red"} {}""", null, null, "not valid JSON")]
    [TestCase("", null, null, "not valid JSON")]
    public async Task Read_RefusesABadBody_NamingTheFieldAndRow(string json, string? field, int? row, string message)
    {
        var model = await ServingHarness.ClassifierAsync(MlTask.BinaryClassification);

        var error = Assert.Catch(() => PredictRequest.Read(Body(json), model));

        var (actualField, actualRow) = error switch
        {
            PredictRequestException e => (e.Field, e.Row),
            ScoringInputException e => (e.Field, (int?)e.Row),
            _ => throw error!,
        };
        Assert.That((actualField, actualRow), Is.EqualTo((field, row)));
        Assert.That(error!.Message, Does.Contain(message));
    }

    [Test]
    public void Response_WritesClassProbabilities_ConsecutivePredictionIds_AndNonFiniteNumbersAsStrings()
    {
        var output = new ArrayBufferWriter<byte>();
        var ids = new PredictionIds();

        new PredictResponse("m", "m-1", "canary", ids).WritePredictions(output,
        [
            new Prediction(0.7, "high", 0.7, new Dictionary<string, double> { ["low"] = 0.1, ["high"] = 0.7 }),
            new Prediction(double.NaN),
        ], firstId: 0x1f);

        var json = JsonDocument.Parse(output.WrittenMemory).RootElement;
        Assert.That(json.GetProperty("track").GetString(), Is.EqualTo("canary"));
        var first = json.GetProperty("predictions")[0];
        Assert.That(first.GetProperty("predictedLabel").GetString(), Is.EqualTo("high"));
        Assert.That(first.GetProperty("classProbabilities").GetProperty("low").GetDouble(), Is.EqualTo(0.1));
        var second = json.GetProperty("predictions")[1];
        Assert.That(second.GetProperty("score").GetString(), Is.EqualTo("NaN"));
        Assert.That(second.TryGetProperty("predictedLabel", out _), Is.False);
        Assert.That(first.GetProperty("predictionId").GetString(), Is.EqualTo($"{ids.Instance}-1f"));
        Assert.That(second.GetProperty("predictionId").GetString(), Is.EqualTo($"{ids.Instance}-20"));
        Assert.That(ids.TryParse($"{ids.Instance}-20", out var counter) && counter == 0x20, Is.True);
        Assert.That(ids.TryParse("0badc0de-20", out _), Is.False);
    }

    private static ReadOnlySequence<byte> Body(string json) => new(Encoding.UTF8.GetBytes(json));
}
