using System.Net;
using System.Text.Json;
using Cd4ml.Training.Scoring;

namespace Cd4ml.Serving.Tests;

public sealed class PredictTests
{
    private TrainedModel model = null!;
    private ModelServer server = null!;
    private ScoringModel reference = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        model = await ServingHarness.ModelAsync();
        reference = new ScoringModel(await ModelArtifact.LoadAsync(model.Server.Store, model.Prefix));
        server = await ServingHarness.StartAsync(ServingHarness.Settings(model) with { AdminEnabled = false });
        Assert.That((await ServingHarness.SettledAsync(server)).State, Is.EqualTo(ServingState.Ready), server.Status.Reason);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await server.DisposeAsync();

    [Test]
    public async Task Predict_SingleObject_AnswersWhatTheScoringModelPredicts()
    {
        var request = ServingHarness.Requests(model.Holdout, 1)[0];

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(request));

        Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("model").GetString(), Is.EqualTo("sales"));
        Assert.That(body.GetProperty("version").GetString(), Is.EqualTo("sales-1"));
        var expected = reference.Score([ToElements(request)])[0].Score;
        Assert.That(body.GetProperty("predictions")[0].GetProperty("score").GetDouble(), Is.EqualTo(expected));
    }

    [Test]
    public async Task Predict_Batch_AnswersWhatTheScoringModelPredicts_RowForRow()
    {
        var requests = ServingHarness.Requests(model.Holdout, 50);

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(new { instances = requests }));

        Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
        var expected = reference.Score(requests.Select(ToElements).ToList()).Select(p => p.Score).ToList();
        var actual = body.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("score").GetDouble()).ToList();
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(actual.Distinct().Count(), Is.GreaterThan(5));
    }

    [TestCase("{\"store_nbr\": ", null, TestName = "Predict_MalformedJson_IsAClientError")]
    [TestCase("[1, 2]", null, TestName = "Predict_NonObjectBody_IsAClientError")]
    [TestCase("{\"instances\": {}}", "instances", TestName = "Predict_InstancesNotAnArray_IsAClientErrorNamingInstances")]
    public async Task Predict_RefusesBadBodies_With400_CountedAsClientError(string json, string? field)
    {
        var clientErrors = await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ClientError);
        var serverErrors = await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ServerError);

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", json);

        Assert.That(code, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("error").GetString(), Is.Not.Empty);
        if (field is not null)
        {
            Assert.That(body.GetProperty("field").GetString(), Is.EqualTo(field));
        }

        Assert.That(await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ClientError), Is.EqualTo(clientErrors + 1));
        Assert.That(await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ServerError), Is.EqualTo(serverErrors));
    }

    [Test]
    public async Task Predict_WrongTypedFieldInABatch_Answers400_NamingTheFieldAndRow()
    {
        var requests = ServingHarness.Requests(model.Holdout, 3);
        requests[2]["store_nbr"] = "one";
        var clientErrors = await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ClientError);
        var serverErrors = await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ServerError);

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(new { instances = requests }));

        Assert.That(code, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo("store_nbr"));
        Assert.That(body.GetProperty("row").GetInt32(), Is.EqualTo(2));
        Assert.That(body.GetProperty("error").GetString(), Does.Contain("row 2").And.Contain("store_nbr"));
        Assert.That(await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ClientError), Is.EqualTo(clientErrors + 1));
        Assert.That(await ServingHarness.PredictionCountAsync(server.Address, ServingMetrics.ServerError), Is.EqualTo(serverErrors));
    }

    [Test]
    public async Task Predict_MissingRequiredField_Answers400_NamingTheField()
    {
        var request = ServingHarness.Requests(model.Holdout, 1)[0];
        request.Remove("date");

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(request));

        Assert.That(code, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo("date"));
        Assert.That(body.GetProperty("error").GetString(), Does.Contain("'date'").And.Contain("required"));
    }

    [Test]
    public async Task Predict_ObjectValuedField_Answers400_NamingTheField()
    {
        var request = ServingHarness.Requests(model.Holdout, 1)[0];
        request["family"] = new { nested = true };

        var (code, body) = await ServingHarness.PostAsync(server.Address, "/predict", JsonSerializer.Serialize(request));

        Assert.That(code, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body.GetProperty("field").GetString(), Is.EqualTo("family"));
    }

    [Test]
    public async Task AdminFaultEndpoint_DoesNotExist_UnlessAdminIsEnabled()
    {
        var (code, _) = await ServingHarness.PostAsync(server.Address, "/admin/fault", "{\"errorRate\": 1}");

        Assert.That(code, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private static IReadOnlyDictionary<string, JsonElement> ToElements(Dictionary<string, object?> request) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(request))!;
}
