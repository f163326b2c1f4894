import { useId, useState, type DragEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { challanKeys, uploadPod, type Challan } from '../../api/challans';

/** What the server accepts (checked there by content); `capture` opens the phone's camera directly. */
const ACCEPT = 'image/*,application/pdf,.doc,.docx';
/** On the phone card: a photo or a scanned PDF of the signed copy. */
const ACCEPT_PHONE = 'image/*,application/pdf';

type OnUploaded = (message: string, challan: Challan) => void;

function useUpload(challan: Challan, onDone: OnUploaded) {
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setProblem(null);
    setProgress(0);
    try {
      const updated = await uploadPod(challan.id, file, setProgress);
      await queryClient.invalidateQueries({ queryKey: challanKeys.all });
      onDone(`Proof of delivery ${challan.pod ? 'replaced' : 'attached'} for ${challan.number}.`, updated);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : 'The upload failed.');
    } finally {
      setProgress(null);
    }
  };
  return { progress, problem, upload };
}

function CameraIcon() {
  return (
    <svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d="M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z" />
      <circle cx="12" cy="13.5" r="3.5" />
    </svg>
  );
}

function Progress({ value }: { value: number }) {
  return <progress className="pod-progress" max={1} value={value} aria-label="Upload progress">{Math.round(value * 100)}%</progress>;
}

/**
 * The delivery executive's button on a phone card: opens the camera (or the files) and uploads the
 * signed copy at once.
 */
export function PodCaptureButton({ challan, onDone }: { challan: Challan; onDone: OnUploaded }) {
  const id = useId();
  const { progress, problem, upload } = useUpload(challan, onDone);
  return (
    <div className="pod-capture">
      <input id={id} className="visually-hidden" type="file" accept={ACCEPT_PHONE} capture="environment" disabled={progress !== null}
        onChange={(e) => { void upload(e.target.files?.[0]); e.target.value = ''; }} />
      <label htmlFor={id} className={`button ${challan.pod ? '' : 'button-primary '}pod-capture-button`} aria-disabled={progress !== null || undefined}>
        <CameraIcon />
        {progress !== null ? 'Uploading…' : challan.pod ? `Replace POD of ${challan.number}` : `Upload POD of ${challan.number}`}
      </label>
      {progress !== null && <Progress value={progress} />}
      {problem && <p className="field-error" role="alert">{problem}</p>}
    </div>
  );
}

/** The drawer's drop zone: drag a file onto it, or choose one (the camera on a phone). */
export function PodDropZone({ challan, onDone }: { challan: Challan; onDone: OnUploaded }) {
  const id = useId();
  const { progress, problem, upload } = useUpload(challan, onDone);
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void upload(e.dataTransfer.files[0]);
  };
  return (
    <div className={`pod-drop${over ? ' pod-drop-over' : ''}`} onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)} onDrop={onDrop}>
      <input id={id} className="visually-hidden" type="file" accept={ACCEPT} capture="environment" disabled={progress !== null}
        onChange={(e) => { void upload(e.target.files?.[0]); e.target.value = ''; }} />
      <p className="small muted">Drop the signed copy here (PDF, JPEG, PNG, DOC or DOCX) or</p>
      <label htmlFor={id} className="button button-primary">{challan.pod ? 'Replace the file' : 'Choose or photograph the file'}</label>
      {progress !== null && <Progress value={progress} />}
      {problem && <p className="field-error" role="alert">{problem}</p>}
    </div>
  );
}
