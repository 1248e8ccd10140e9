using Sluice.Dataflow;

namespace Sluice.Dataflow.Tests;

public sealed class GoogleErrorTests
{
    [Fact]
    public void Invalid_template_parameters_carry_every_violation()
    {
        const string body = """
            {"error":{"code":400,"message":"(5d2e2c6a1b0f9e33): The template parameters are invalid.","status":"INVALID_ARGUMENT",
              "details":[{"@type":"type.googleapis.com/google.dataflow.v1beta3.InvalidTemplateParameters",
                "parameterViolations":[{"parameter":"inputFile","description":"Missing required parameter"},
                                       {"parameter":"window","description":"The value '60x' does not match the pattern ^[0-9]+s$"}]}],
              "errors":[{"message":"(5d2e2c6a1b0f9e33): The template parameters are invalid.","domain":"global","reason":"badRequest"}]}}
            """;

        var error = DataflowApiException.FromResponse(400, body);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", error.Status);
        Assert.Equal("badRequest", error.Reason);
        Assert.Equal("(5d2e2c6a1b0f9e33): The template parameters are invalid.", error.Message);
        Assert.Equal([new ParameterViolation("inputFile", "Missing required parameter"),
            new ParameterViolation("window", "The value '60x' does not match the pattern ^[0-9]+s$")], error.Violations);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public void An_error_info_detail_gives_the_reason_when_errors_has_none()
    {
        const string body = """
            {"error":{"code":403,"message":"Permission 'dataflow.jobs.create' denied on project 'p'.","status":"PERMISSION_DENIED",
              "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED","domain":"dataflow.googleapis.com"}]}}
            """;

        var error = DataflowApiException.FromResponse(403, body);

        Assert.Equal("PERMISSION_DENIED", error.Status);
        Assert.Equal("IAM_PERMISSION_DENIED", error.Reason);
        Assert.Empty(error.Violations);
    }

    [Fact]
    public void A_body_that_is_not_googles_json_still_gives_a_clear_error()
    {
        var error = DataflowApiException.FromResponse(502, "<html><body>Bad Gateway</body></html>");

        Assert.Equal(502, error.StatusCode);
        Assert.Null(error.Status);
        Assert.True(error.IsTransient);
        Assert.Contains("HTTP 502", error.Message, StringComparison.Ordinal);
        Assert.Contains("Bad Gateway", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Already_exists_and_terminated_answers_are_recognised()
    {
        var conflict = DataflowApiException.FromResponse(409, """{"error":{"code":409,"message":"(78f666ea16e50f79): There is already an active job named x.","status":"ALREADY_EXISTS"}}""");
        Assert.True(conflict.IsAlreadyExists);

        var terminated = DataflowApiException.FromResponse(400, """{"error":{"code":400,"message":"(1): Cannot cancel job j: Job has terminated in state JOB_STATE_DONE.","status":"FAILED_PRECONDITION"}}""");
        Assert.True(terminated.IsJobTerminated);
    }
}
