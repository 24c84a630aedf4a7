"""The only package that imports SpiffWorkflow. It returns our own dataclasses."""

from app.engine.loader import CompiledModel, ModelInvalid, Problem, compile_model, read_model_folder
from app.engine.runtime import LIBRARY_VERSION, Case, EngineError, ReadyTask, Runtime, StepRecord
from app.engine.sandbox import ScriptRejected
from app.engine.xmlsafe import UnsafeXml, parse_xml

__all__ = [
    "LIBRARY_VERSION",
    "Case",
    "CompiledModel",
    "EngineError",
    "ModelInvalid",
    "Problem",
    "ReadyTask",
    "Runtime",
    "ScriptRejected",
    "StepRecord",
    "UnsafeXml",
    "compile_model",
    "parse_xml",
    "read_model_folder",
]
