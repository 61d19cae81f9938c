# The CDK standard test suite's pytest hooks (scenario parametrisation); must live in the root conftest.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]
